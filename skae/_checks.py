"""The transformers' parameters and inputs: the leaves' ``__init__``, the
built-in networks' parameters, and the checks on X."""

import inspect
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import validate_data

from ._loss import get_loss
from ._table import Schema

__all__ = ["check_values", "extend_init", "is_nan", "network_kwargs", "positive_ints",
           "table_schema", "validate_X", "validate_holes"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def is_nan(value):
    """Whether ``value`` (a parameter, such as ``missing_values``) is NaN."""
    return isinstance(value, Real) and np.isnan(value)


def extend_init(base_init, **defaults):
    """A leaf's ``__init__``: ``base_init``'s parameters plus the keyword-only
    ``defaults``, each stored unchanged as an attribute.

    scikit-learn reads an estimator's parameters from its ``__init__``
    signature; this one carries the full signature, so the shared
    parameters are listed once, in the base class.
    """
    base = inspect.signature(base_init)
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
             for name, value in defaults.items()]
    signature = base.replace(parameters=[*base.parameters.values(), *extra])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def positive_ints(value, name, allow_empty=True):
    """``value`` (an int or a sequence of ints >= 1) as a tuple, or a ValueError."""
    values = [value] if isinstance(value, Integral) else list(value)
    if not all(isinstance(v, Integral) and v >= 1 for v in values) or (
            not values and not allow_empty):
        raise ValueError(f"{name} must be {'a non-empty tuple of ' if not allow_empty else ''}"
                         f"positive integers; got {value!r}.")
    return tuple(int(v) for v in values)


def network_kwargs(estimator, n_features):
    """Validated parameters of the built-in networks, as module arguments."""
    kwargs = {"hidden_layer_sizes": positive_ints(estimator.hidden_layer_sizes,
                                                   "hidden_layer_sizes"),
              "activation": estimator.activation, "architecture": estimator.architecture}
    if estimator.architecture == "mlp":
        return kwargs
    if estimator.image_shape is None:
        raise ValueError("architecture='conv' needs image_shape, e.g. (28, 28).")
    shape = tuple(estimator.image_shape)
    if (len(shape) not in (2, 3)
            or not all(isinstance(d, Integral) and d >= 1 for d in shape)):
        raise ValueError("image_shape must be (height, width) or (channels, height, "
                         f"width) of positive integers; got {estimator.image_shape!r}.")
    if int(np.prod(shape)) != n_features:
        raise ValueError(f"image_shape {shape} has {int(np.prod(shape))} values but X has "
                         f"{n_features} features per row.")
    channels = positive_ints(estimator.conv_channels, "conv_channels", allow_empty=False)
    return {**kwargs, "image_shape": tuple(int(d) for d in shape), "channels": channels}


@contextmanager
def _missing_values_hint(name):
    """Re-raise a NaN error with the way to fill the missing values."""
    try:
        yield
    except ValueError as exc:
        if "NaN" not in str(exc):
            raise
        raise ValueError(
            f"{exc}\n{name} needs complete rows: fill the missing values first, e.g. with "
            f"skae.AutoencoderImputer in a Pipeline: "
            f"make_pipeline(AutoencoderImputer(), {name}())."
        ) from None


def table_schema(estimator, X, reset):
    """The :class:`~skae._table.Schema` of a table X with boolean or
    categorical columns (None for numbers alone), found at fit (``reset``)
    from the estimator's ``categorical_features`` and kept as ``_schema``;
    the fitted one afterwards."""
    if not reset:
        return getattr(estimator, "_schema", None)
    chosen = getattr(estimator, "categorical_features", "from_dtype")
    estimator._schema = Schema.infer(X, None if isinstance(chosen, str) else chosen)
    return estimator._schema


def validate_X(estimator, X, reset, loss=None):
    """X validated as float32/float64 (no copy when already one of them).

    With ``loss`` (the loss object at fit) the values are checked too;
    without, only the shape and dtype, and :func:`check_values` must be
    applied to each batch: inference then reads large or memory-mapped input
    only once, batch by batch. A table with boolean or categorical columns
    (:func:`table_schema`) comes back encoded (``skae._table``), its names
    and width checked as they are.
    """
    schema = table_schema(estimator, X, reset)
    if schema is not None:
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        X = schema.encode(X)
        if loss is not None:
            check_values(X, get_loss(schema.loss_spec()), type(estimator).__name__)
        return X
    with _missing_values_hint(type(estimator).__name__):
        X = validate_data(estimator, X, dtype=[np.float64, np.float32], reset=reset,
                          ensure_all_finite=loss is not None, accept_sparse=("csr", "csc"),
                          accept_large_sparse=True)
    if sp.issparse(X):
        X = X.tocsr()  # rows are sliced from it, batch by batch
    if loss is not None:
        check_values(X, loss, type(estimator).__name__, finite_checked=True)
    return X


def validate_holes(estimator, X, reset, missing_values):
    """An imputer's X: ``(X, missing, values)``, X validated (as float32 or
    float64 for numbers), which entries of each column are missing, and X's
    values (a table encoded, ``skae._table``) with NaN at those entries. The
    observed values are checked: finite and representable in float32."""
    name = type(estimator).__name__
    schema = table_schema(estimator, X, reset)
    if schema is not None:
        if not is_nan(missing_values):
            raise ValueError("A table with boolean or categorical columns marks missing "
                             "entries NaN or None: set missing_values=np.nan.")
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        values = schema.encode(X, dtype=np.float64)  # observed values kept exactly
        check_values(np.nan_to_num(values, nan=0.0), get_loss("mse"), name)
        return X, np.isnan(values[:, schema.starts[:-1]]), values
    X = validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32],
                      ensure_all_finite=False, copy=False)  # checked below
    nan = np.isnan(X)
    missing = nan if is_nan(missing_values) else (X == missing_values) | nan
    if not is_nan(missing_values) and nan.any():
        raise ValueError(f"X contains NaN, which is not missing_values={missing_values!r}; "
                         "set missing_values=np.nan.")
    check_values(np.where(missing, 0, X), get_loss("mse"), name)
    return X, missing, np.where(missing, np.nan, X)


def check_values(X, loss, name, finite_checked=False):
    """Value checks: finite, representable in float32, in ``loss``'s domain."""
    if sp.issparse(X):  # the stored values, and the zeros if any are implicit
        if X.nnz < X.shape[0] * X.shape[1]:
            check_values(np.zeros(1, X.dtype), loss, name)
        X = X.data
    if not X.size:
        return
    if not finite_checked:
        with _missing_values_hint(name):
            assert_all_finite(X, input_name="X", estimator_name=name)
    if X.dtype == np.float64 and max(X.max(), -X.min()) > _FLOAT32_MAX:
        raise ValueError(
            "X has values too large for float32, the precision the network "
            "computes in; scale the data (e.g. StandardScaler)."
        )
    loss.check_domain(X)
