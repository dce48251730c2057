"""Export to ONNX: :func:`to_onnx`, the export of a fitted network and its
splicing into skl2onnx's graph.

skl2onnx converts scikit-learn pipelines and asks each step that it does not
know for ``onnx_parser``, ``onnx_shape_calculator`` and ``onnx_converter``
(its converter protocol): the mixins of ``_onnx_graphs.py`` give skae's
estimators these, so that ``skl2onnx.to_onnx`` converts a pipeline holding
one, and skae never imports skl2onnx before an export is asked for. The
network part of each graph is ``torch.onnx.export`` of the fitted module (its
internal scaling and linear start included), spliced into skl2onnx's graph.
"""

import contextlib
import contextvars
import io
import logging
import re
import warnings

import numpy as np
import torch

from ._frames import as_pandas, frame_kind
from ._torch_module import fitted_module

__all__ = ["OPSET", "current_method", "network_graph", "splice", "to_onnx"]

#: The ONNX opset of the graphs skae writes (ONNX's default domain).
OPSET = 18
_ML_OPSET = 3  # ai.onnx.ml, for the scikit-learn steps beside skae's
_EXTRA = ("skae.to_onnx needs the packages of skae's 'onnx' extra (onnx, onnxscript, "
          "skl2onnx; onnxruntime runs the result): pip install 'skae[onnx]', or from a "
          "clone of skae: pip install -c constraints.txt '.[onnx]'")
#: ``method`` of :func:`to_onnx` for the estimator being exported itself.
_METHOD = contextvars.ContextVar("skae_onnx_method", default=(None, "transform"))


def current_method(estimator):
    """The method to export of ``estimator``: ``to_onnx``'s ``method`` for
    the model it was given, ``"transform"`` for the steps inside it."""
    model, method = _METHOD.get()
    return method if model is estimator else "transform"


def _require():
    """Import the extra's packages, or say which extra to install."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
        import skl2onnx  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{_EXTRA} ({exc.name} is missing).") from None


def to_onnx(model, X_sample, *, method="transform", target_opset=OPSET):
    """Export a fitted skae estimator, or a scikit-learn pipeline holding one,
    to ONNX.

    The result runs in onnxruntime (or any ONNX runtime) where neither torch
    nor skae is installed. It is built with skl2onnx: scikit-learn steps are
    converted by skl2onnx's own converters, skae's by ``torch.onnx.export``
    of the fitted network. Inputs and outputs are float32; the batch axis is
    dynamic. ``skl2onnx.to_onnx`` converts the same models (skae's
    estimators carry skl2onnx's converter protocol), without the ``method``
    choice.

    Parameters
    ----------
    model : estimator
        A fitted :class:`AutoencoderTransformer`, :class:`VAETransformer`,
        :class:`AutoencoderOutlierDetector` or :class:`AutoencoderImputer`,
        or a scikit-learn meta-estimator (Pipeline, ColumnTransformer,
        FeatureUnion) holding them; or a fitted
        :class:`AutoencoderRecommender`, whose graph takes rows of its
        matrix (input ``"X"``: a user's ratings of every item, NaN where
        unrated, for user rows) and gives the predictions of all their
        entries (output ``"scores"``).
    X_sample : array-like or DataFrame
        A few rows of the model's input, for the input's width, names and
        types (a pandas or polars DataFrame gives one input per column, as
        skl2onnx does); float arrays are taken as float32.
    method : {"transform", "inverse_transform", "score_samples"}, \
default="transform"
        What a transformer given as ``model`` computes (``X_sample`` then
        holds codes for ``"inverse_transform"``). skae steps inside a
        pipeline compute ``transform``; an outlier detector always gives
        ``label`` (``predict``), ``scores`` (``decision_function``) and
        ``score_samples``.
    target_opset : int, default=18
        ONNX opset of the default domain.

    Returns
    -------
    onnx_model : onnx.ModelProto
        The model, e.g. ``onnx_model.SerializeToString()`` for a file.

    Raises
    ------
    ImportError
        Without the ``onnx`` extra.
    ValueError
        For a model that cannot be exported: ``transform_neighbors`` (a
        search among the training rows), a user's network layer that
        ``torch.onnx.export`` cannot export (named), a detector around an
        estimator other than skae's; for a model fitted on a table of
        categorical or boolean columns (given as a DataFrame of its columns,
        encoded inside the graph), ``inverse_transform`` and the imputer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> import skae
    >>> X = (load_digits().data / 16).astype(np.float32)
    >>> ae = skae.AutoencoderTransformer(2, max_epochs=3, random_state=0).fit(X)
    >>> onnx_model = skae.to_onnx(ae, X[:5])
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession(onnx_model.SerializeToString())
    >>> codes = session.run(None, {"X": X})[0]
    >>> bool(np.abs(codes - ae.transform(X)).max() < 1e-5)
    True
    """
    _require()
    if hasattr(model, "_onnx_model"):  # a graph of its own (the recommender's rows)
        return model._onnx_model(X_sample, target_opset)
    from skl2onnx import to_onnx as convert

    if method not in ("transform", "inverse_transform", "score_samples"):
        raise ValueError("method must be 'transform', 'inverse_transform' or "
                         f"'score_samples'; got {method!r}.")
    if isinstance(X_sample, np.ndarray) and X_sample.dtype.kind == "f":
        X_sample = X_sample.astype(np.float32)
    elif frame_kind(X_sample) == "polars":  # skl2onnx reads pandas' dtypes
        X_sample = as_pandas(X_sample)
    token = _METHOD.set((model, method))
    try:
        with _quiet():
            return convert(model, X_sample, target_opset={"": target_opset,
                                                          "ai.onnx.ml": _ML_OPSET})
    finally:
        _METHOD.reset(token)


@contextlib.contextmanager
def _quiet():
    """No log records, warnings or writes to stderr while exporting: torch's
    exporter logs its progress and deprecation notes, and prints the graphs
    it gives up on (the error raised says why)."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


# ------------------------------------------------------------ the network
def network_graph(net, fn, n_inputs, opset=OPSET):
    """The ONNX graph (a ``ModelProto``) of ``fn(module, x)`` for the fitted
    net's module on float32 rows of ``n_inputs`` values, batch axis dynamic.

    Raises
    ------
    ValueError
        Naming the layer of a user's network that torch cannot export.
    """
    import onnx.inliner

    call = fitted_module(net, fn)
    module = call.module
    sample = torch.zeros(3, n_inputs)
    with _quiet(), torch.no_grad():
        call(sample)  # eagerly first: what it caches is not traced (the VAE's draws)
        try:
            program = torch.onnx.export(
                call, (sample,), dynamo=True, opset_version=opset,
                dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
        except Exception as exc:  # torch's exporter: any failure, reported by layer
            raise ValueError(_failing_layer(module, fn, sample, exc)) from exc
    return onnx.inliner.inline_local_functions(program.model_proto)


def rename_io(model, input_name, output_name):
    """``model``, a ``ModelProto`` of one input and one output, with them
    named ``input_name`` and ``output_name``."""
    graph = model.graph
    names = {graph.input[0].name: input_name, graph.output[0].name: output_name}
    for node in graph.node:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.output[:] = [names.get(name, name) for name in node.output]
    graph.input[0].name, graph.output[0].name = input_name, output_name
    return model


def _failing_layer(module, fn, sample, exc):
    """Why ``fn(module, x)`` cannot be exported: the first innermost layer
    that torch cannot export on its own inputs, else the exporter's error."""
    inputs = {}

    def keep(name):
        def hook(layer, args, output):
            inputs.setdefault(name, args)  # returns None: the output stays
        return hook

    hooks = [part.register_forward_hook(keep(name))
             for name, part in module.named_modules() if not list(part.children())]
    try:
        with torch.no_grad():
            fn(module, sample)
    except Exception:  # noqa: BLE001 (the network fails in torch itself)
        return f"the network fails on a batch of {tuple(sample.shape)}: {exc}"
    finally:
        for hook in hooks:
            hook.remove()
    layers = dict(module.named_modules())
    for name, args in inputs.items():
        try:
            torch.onnx.export(layers[name], args, dynamo=True, verbose=False)
        except Exception as layer_exc:  # noqa: BLE001 (the layer's own failure)
            return (f"torch.onnx.export cannot export layer {name!r} "
                    f"({type(layers[name]).__name__}) of the network: {_reason(layer_exc)}")
    return f"torch.onnx.export failed on the network: {_reason(exc)}"


def _reason(exc):
    """The gist of an exporter's error: the line after its "Exception
    summary" heading, else its first line, without colour codes."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines()]
    if "## Exception summary" in lines:
        lines = lines[lines.index("## Exception summary") + 1:]
    return next((line for line in lines if line), type(exc).__name__)


def splice(scope, container, proto, inputs, outputs):
    """Add the graph ``proto`` to skl2onnx's ``container``: its inputs and
    outputs become the variables ``inputs`` and ``outputs``, every other
    name is made unique in ``scope``."""
    from onnx import helper, numpy_helper

    graph = proto.graph
    names = {given.name: name for given, name in zip(graph.input, inputs, strict=True)}
    names.update({given.name: name for given, name in zip(graph.output, outputs,
                                                         strict=True)})

    def rename(name):
        if name and name not in names:
            names[name] = scope.get_unique_variable_name(f"skae_{name}")
        return names.get(name, name)

    for tensor in graph.initializer:
        value = numpy_helper.to_array(tensor)
        container.add_initializer(rename(tensor.name), tensor.data_type, list(value.shape),
                                  value.ravel())
    opsets = {entry.domain: entry.version for entry in proto.opset_import}
    for node in graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(node.op_type, [rename(i) for i in node.input],
                           [rename(o) for o in node.output], op_domain=node.domain,
                           op_version=opsets.get(node.domain, container.target_opset),
                           name=scope.get_unique_operator_name(f"skae_{node.op_type}"),
                           **attributes)
