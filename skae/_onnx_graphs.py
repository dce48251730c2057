"""skl2onnx's converter protocol on skae's estimators: how skl2onnx parses,
types and converts each kind of them (a mixin per kind; the export itself
is in ``_onnx.py``)."""

import functools

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._checks import is_nan
from ._inference import fold_in_entries, predict_entries
from ._kinds import KINDS
from ._onnx import current_method, network_graph, rename_io, splice

__all__ = ["DetectorOnnx", "ImputerOnnx", "OnnxMixin", "RecommenderOnnx", "TransformerOnnx"]


class OnnxMixin:
    """skl2onnx's converter protocol on skae's estimators: how skl2onnx
    parses, types and converts them (see :func:`skae.to_onnx`)."""

    def onnx_parser(self):
        """skl2onnx's parser of this estimator: its outputs' names."""
        return lambda scope=None, inputs=None: self._onnx_outputs()

    def onnx_shape_calculator(self):
        """skl2onnx's shape calculator of this estimator."""
        return self._onnx_shapes

    def onnx_converter(self):
        """skl2onnx's converter of this estimator."""
        return self._onnx_convert

    # Leaves say what they compute -----------------------------------------
    def _onnx_outputs(self):
        return ["variable"]

    def _onnx_method(self):
        """The method exported: ``to_onnx``'s for the model it was given."""
        return current_method(self)

    def _onnx_shapes(self, operator):
        from skl2onnx.common.data_types import FloatTensorType

        n = operator.inputs[0].get_first_dimension()
        for output, width in zip(operator.outputs, self._onnx_widths(), strict=True):
            output.type = FloatTensorType([n, width])

    def _onnx_input(self, scope, operator, container):
        """The operator's inputs as one float32 variable (skl2onnx gives a
        DataFrame's columns as inputs of their own); a table's encoded."""
        from onnx import TensorProto

        build = _Builder(scope, container)
        schema = getattr(self, "_schema", None)
        if schema is not None:
            return _encode_table(build, operator.inputs, schema)
        parts = [variable.full_name if variable.type.__class__.__name__ == "FloatTensorType"
                 else build.node("Cast", [variable.full_name], to=TensorProto.FLOAT)
                 for variable in operator.inputs]
        return parts[0] if len(parts) == 1 else build.node("Concat", parts, axis=1)

    def _onnx_check(self, table=False):
        """Refuse what cannot be exported; ``table``: whether a table's
        model can be (its encoded input, numeric outputs)."""
        check_is_fitted(self)
        if getattr(self, "_schema", None) is not None and not table:
            what = ("its inverse_transform returns the user's table"
                    if isinstance(self, TransformerOnnx) else "it fills categories")
            raise ValueError(
                f"{type(self).__name__} fitted on a table with boolean or categorical columns "
                f"cannot be exported to ONNX for this yet: {what}. Its transform and "
                "score_samples, and a detector around it, can be; or keep it in Python with "
                "skae.save.")
        if getattr(self, "transform_neighbors", None):
            raise ValueError(
                f"{type(self).__name__} with transform_neighbors={self.transform_neighbors} "
                "cannot be exported to ONNX: its transform searches the training rows. "
                "Export it with transform_neighbors=None (the encoder's codes), or keep it "
                "in Python with skae.save.")


def _decode(module, codes):
    return module.decode(codes)


def _encode_table(build, inputs, schema):
    """A table's columns (skl2onnx's inputs, one per DataFrame column) as
    the encoded float32 rows the network takes, each column as its kind
    encodes it (``skae._kinds``: numbers and booleans cast, a categorical
    column one-hot)."""
    names = [variable.raw_name for variable in inputs]
    if names != [str(column.name) for column in schema.columns]:
        raise ValueError(f"the sample's columns {names} are not the fitted table's "
                         f"{[str(c.name) for c in schema.columns]}: give a DataFrame of the "
                         "fitted columns, in order.")
    return build.node("Concat", [KINDS[column.kind].onnx(build, variable.full_name,
                                                         type(variable.type).__name__, column)
                                 for variable, column in zip(inputs, schema.columns,
                                                             strict=True)], axis=1)


class _Builder:
    """Constants and nodes added to skl2onnx's graph under unique names."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def constant(self, name, values, onnx_type, dtype):
        """An initializer of ``values`` (any shape) as ``dtype``."""
        values = np.asarray(values, dtype=dtype)
        unique = self.scope.get_unique_variable_name(name)
        self.container.add_initializer(unique, onnx_type, list(values.shape), values.ravel())
        return unique

    def node(self, op, inputs, output=None, **attributes):
        """A node of ``op`` on ``inputs``; its output's name."""
        output = output or self.scope.get_unique_variable_name(f"skae_{op.lower()}")
        self.container.add_node(op, inputs, [output],
                                name=self.scope.get_unique_operator_name(f"skae_{op}"),
                                **attributes)
        return output


class TransformerOnnx(OnnxMixin):
    """ONNX export of the transformers: ``transform`` (the encoder's code),
    ``inverse_transform`` or ``score_samples`` (a column)."""

    def _onnx_widths(self):
        method = self._onnx_method()
        if method == "transform":
            return [self._n_features_out]
        return [self.n_features_in_ if method == "inverse_transform" else 1]

    def _network_call(self, method):
        """``(fn(module, x), input width)`` of ``method``: what ``to_onnx``
        exports and ``to_torch`` returns."""
        schema = getattr(self, "_schema", None)
        width = self.n_features_in_ if schema is None else schema.n_encoded
        if method == "transform":
            return _encode_rows, width
        if method == "inverse_transform":
            return _decode, self._n_features_out
        score = self.net_.score_batch
        return (lambda module, x: score(module, x)[:, None]), width

    def _onnx_convert(self, scope, operator, container):
        self._onnx_check(table=self._onnx_method() != "inverse_transform")
        fn, width = self._network_call(self._onnx_method())
        graph = network_graph(self.net_, fn, width, container.target_opset)
        splice(scope, container, graph, [self._onnx_input(scope, operator, container)],
                [operator.outputs[0].full_name])


def _encode_rows(module, x):
    return module.encode(x)


class DetectorOnnx(OnnxMixin):
    """ONNX export of the outlier detector: ``label`` (``predict``, +1 or
    -1), ``scores`` (``decision_function``) and ``score_samples``, each a
    column, as skl2onnx exports scikit-learn's outlier detectors."""

    def _onnx_outputs(self):
        return ["label", "scores", "score_samples"]

    def _onnx_shapes(self, operator):
        from skl2onnx.common.data_types import FloatTensorType, Int64TensorType

        n = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n, 1])
        for output in operator.outputs[1:]:
            output.type = FloatTensorType([n, 1])

    def _onnx_convert(self, scope, operator, container):
        from onnx import TensorProto

        check_is_fitted(self)
        inner = self.estimator_
        if not isinstance(inner, TransformerOnnx):
            raise ValueError(f"AutoencoderOutlierDetector exports to ONNX around skae's "
                             f"transformers only; its estimator is {type(inner).__name__}.")
        inner._onnx_check(table=True)
        fn, width = inner._network_call("score_samples")
        label, scores, raw = (output.full_name for output in operator.outputs)
        graph = network_graph(inner.net_, fn, width, container.target_opset)
        splice(scope, container, graph, [inner._onnx_input(scope, operator, container)], [raw])

        build = _Builder(scope, container)
        offset = build.constant("skae_offset", self.offset_, TensorProto.FLOAT, np.float32)
        build.node("Sub", [raw, offset], scores)
        outlier = build.node("Less", [scores, build.constant("skae_zero", 0.0, TensorProto.FLOAT,
                                                             np.float32)])
        build.node("Where", [outlier,
                             build.constant("skae_minus_one", -1, TensorProto.INT64, np.int64),
                             build.constant("skae_one", 1, TensorProto.INT64, np.int64)], label)


class ImputerOnnx(OnnxMixin):
    """ONNX export of the imputer's ``transform``: the holes (NaN, or
    ``missing_values``) filled by the network inside the graph, the columns
    kept as at fit, then the indicator's columns."""

    def _onnx_widths(self):
        return [len(self.get_feature_names_out())]

    def _onnx_convert(self, scope, operator, container):
        from onnx import TensorProto

        self._onnx_check()

        build = _Builder(scope, container)
        constant, node = build.constant, build.node

        x = self._onnx_input(scope, operator, container)
        if not is_nan(self.missing_values):  # the placeholder becomes NaN
            hole = node("Equal", [x, constant("skae_missing", self.missing_values,
                                              TensorProto.FLOAT, np.float32)])
            x = node("Where", [hole, constant("skae_nan", np.nan, TensorProto.FLOAT,
                                              np.float32), x])
        data = x
        dropped = not self.keep_empty_features and not self._valid_mask.all()
        if dropped:
            data = node("Gather", [x, constant("skae_kept", np.flatnonzero(self._valid_mask),
                                               TensorProto.INT64, np.int64)], axis=1)
        outputs = [operator.outputs[0].full_name]
        parts = []
        if self.add_indicator or (self.keep_empty_features and not self._valid_mask.all()):
            outputs = [scope.get_unique_variable_name("skae_filled")]
        graph = network_graph(self.net_, self.net_.fill_batch,
                              int(self._valid_mask.sum()) if dropped else self.n_features_in_,
                              container.target_opset)
        splice(scope, container, graph, [data], outputs)
        filled = outputs[0]
        if self.keep_empty_features and not self._valid_mask.all():
            filled = node("Mul", [filled, constant("skae_kept_mask", self._valid_mask[None],
                                                   TensorProto.FLOAT, np.float32)],
                          None if self.add_indicator else operator.outputs[0].full_name)
        parts.append(filled)
        if self.add_indicator:
            features = constant("skae_indicated", self.indicator_.features_, TensorProto.INT64,
                                np.int64)
            indicator = node("IsNaN", [node("Gather", [x, features], axis=1)])
            parts.append(node("Cast", [indicator], to=TensorProto.FLOAT))
            node("Concat", parts, operator.outputs[0].full_name, axis=1)


class RecommenderOnnx:
    """The recommender's rows scored, as :meth:`recommend` folds a user in
    and as its ONNX graph (a model of its own: its ``X`` is pairs, which
    skl2onnx's protocol has no use for) computes them: rows of its matrix
    in, the predictions of their entries out."""

    def _row_scores(self):
        """``fn(module, rows)``: the prediction of every entry of rows of the
        matrix as given (ratings, NaN where unrated, folded in with the
        row's own damped bias; or interactions, their probabilities)."""
        data = self._data
        if not data.explicit:
            return predict_entries
        column_bias = data.item_bias if data.orientation == "user" else data.user_bias
        return functools.partial(fold_in_entries, mean=float(data.mean), damping=data.damping,
                                 column_bias=torch.as_tensor(column_bias, dtype=torch.float32))

    def _onnx_model(self, X_sample, target_opset):
        """:func:`skae.to_onnx` of the recommender: a row of the matrix in
        (a user's ratings of every item for user rows, NaN where unrated;
        an item's by every user for item rows; 0/1 interactions), the
        predictions of all its entries out (ratings clipped to their range
        at fit). ``X_sample``: such rows."""
        check_is_fitted(self)
        width = self._data.matrix.shape[1]
        sample = np.asarray(X_sample)
        if sample.ndim != 2 or sample.shape[1] != width:
            raise ValueError(f"X_sample must be rows of the {width} "
                             f"{'items' if self.orientation_ == 'user' else 'users'} "
                             f"(the recommender's {self.orientation_} rows); got shape "
                             f"{sample.shape}.")
        row_scores, (low, high) = self._row_scores(), self._data.range

        def scores(module, x):
            out = row_scores(module, x)
            return torch.clamp(out, low, high) if self._data.explicit else out

        return rename_io(network_graph(self.net_, scores, width, target_opset), "X", "scores")
