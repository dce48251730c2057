"""The transformers' parameters and inputs: the leaves' ``__init__``, the
built-in networks' parameters, and the checks on X."""

import inspect
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import validate_data

from ._batches import dense_rows
from ._loss import get_loss

__all__ = ["check_values", "extend_init", "is_nan", "network_kwargs", "observed_columns",
           "positive_ints", "validate_X", "validate_holes"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def is_nan(value):
    """Whether ``value`` (a parameter, such as ``missing_values``) is NaN."""
    return isinstance(value, Real) and np.isnan(value)


def extend_init(base_init, *, positional=None, defaults=None, **new):
    """A leaf's ``__init__``: ``base_init``'s parameters, with the defaults
    ``defaults`` changes, plus the keyword-only ``new`` ones, each stored
    unchanged as an attribute. ``positional``: the one ``new`` parameter
    that comes first and may be given by position (the others are then all
    keyword-only), as ``missing_values`` is scikit-learn's imputers' first.

    scikit-learn reads an estimator's parameters from its ``__init__``
    signature; this one carries the full signature, so the shared
    parameters are listed once, in the base class.
    """
    base = list(inspect.signature(base_init).parameters.values())
    defaults = defaults or {}
    rest = [p.replace(default=defaults[p.name]) if p.name in defaults else p for p in base[1:]]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
             for name, value in new.items() if name != positional]
    first = []
    if positional is not None:
        first = [inspect.Parameter(positional, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                   default=new[positional])]
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in rest]
    signature = inspect.Signature([base[0], *first, *rest, *extra])

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


def validate_X(estimator, X, reset, loss=None):
    """X validated as float32/float64 (no copy when already one of them).

    With ``loss`` (the loss object at fit) the values are checked too;
    without, only the shape and dtype, and :func:`check_values` must be
    applied to each batch: inference then reads large or memory-mapped input
    only once, batch by batch. A table with boolean or categorical columns
    (the estimator's ``_schema``, set at fit) comes back encoded
    (``skae._table``), its names and width checked as they are.
    """
    schema = getattr(estimator, "_schema", None)
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


def validate_holes(estimator, X, reset, missing_values, loss=None):
    """An imputer's X: ``(X, values)``, X validated (float32 or float64
    numbers, a CSR matrix whose stored NaN are its holes), and X's values
    (a table encoded, ``skae._table``) with NaN at the missing entries: X
    itself when they are NaN already (no copy: memory-mapped rows stay on
    disk). The observed values are checked, in chunks: finite, representable
    in float32 and in ``loss``'s domain (the loss object; default: any
    number)."""
    name = type(estimator).__name__
    loss = get_loss("mse") if loss is None else loss
    schema = getattr(estimator, "_schema", None)
    if schema is not None:
        if not is_nan(missing_values):
            raise ValueError("A table with boolean or categorical columns marks missing "
                             "entries NaN or None: set missing_values=np.nan.")
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        values = schema.encode(X, dtype=np.float64)  # observed values kept exactly
        _check_observed(values, name, loss)
        return X, values
    X = validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32],
                      ensure_all_finite=False, copy=False, accept_sparse=("csr", "csc"),
                      accept_large_sparse=True)  # checked below
    if sp.issparse(X):
        if not is_nan(missing_values):
            raise ValueError(f"A sparse matrix marks its missing entries by stored NaN "
                             f"values; missing_values={missing_values!r} cannot be told from "
                             "them: set missing_values=np.nan (or give a dense array).")
        X = X.tocsr()
        check_values(np.where(np.isnan(X.data), 0, X.data), loss, name)
        return X, X
    if is_nan(missing_values):
        _check_observed(X, name, loss)
        return X, X
    if np.isnan(X).any():
        raise ValueError(f"X contains NaN, which is not missing_values={missing_values!r}; "
                         "set missing_values=np.nan.")
    values = np.where(X == missing_values, np.nan, X)
    _check_observed(values, name, loss)
    return X, values


def _chunks(X):
    """Dense chunks of rows of an array or CSR matrix, in X's dtype."""
    step = max(1, 2**22 // max(X.shape[1], 1))
    for start in range(0, X.shape[0], step):
        yield dense_rows(X, start, start + step, X.dtype)


def _check_observed(values, name, loss):
    """:func:`check_values` of the observed (not NaN) entries, chunk by chunk
    (the holes read as zeros)."""
    for chunk in _chunks(values):
        check_values(np.where(np.isnan(chunk), 0, chunk), loss, name)


def observed_columns(values):
    """Which columns of ``values`` (an array or CSR matrix, NaN where
    missing) have an observed value."""
    if sp.issparse(values):
        holes = np.bincount(values.indices[np.isnan(values.data)], minlength=values.shape[1])
        return holes < values.shape[0]
    seen = np.zeros(values.shape[1], bool)
    for chunk in _chunks(values):
        seen |= ~np.isnan(chunk).all(axis=0)
    return seen


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
