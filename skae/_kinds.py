"""The kinds of a table's columns: numbers, booleans and categories.

Each kind says, in one place, which dtypes it takes, what it learns at fit
(a categorical column's categories), how its values become the network's
numbers and come back, its likelihood (the loss of its encoded columns, the
link from the network's output, the values it can take) and its ONNX
encoding. A new kind is a class here, added to :data:`KINDS`; ``_table.py``
(reading tables), ``TableLoss`` (``_loss.py``) and the ONNX export ask these
objects and compare no kind names. torch and numpy; pandas where a column
is read or written.
"""

import warnings

import numpy as np
import torch
from torch import nn

__all__ = ["KINDS", "Boolean", "Categorical", "Numeric", "kind_of"]


class Numeric:
    """A number: one encoded column, centred and scaled in the internal
    space, with a Gaussian likelihood (the squared error)."""

    name = "numeric"
    #: Centred and scaled in the internal space; the Gaussian part of the
    #: likelihood (a VAE learns its variance).
    scaled = True

    def takes(self, dtype):
        import pandas as pd

        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)

    def categories(self, series, name):
        """What a column learns at fit beyond its dtype (here nothing)."""
        return ()

    def width(self, categories):
        """Encoded columns of a column."""
        return 1

    def encode(self, values, column, warn=True):
        """A pandas Series as encoded numbers, (n, width), NaN where missing."""
        try:
            return values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Column {column.name!r} is numeric at fit, but holds values that "
                             f"are not numbers now: {exc}") from None

    def decode(self, block, column):
        """Encoded values in the data space, (n, width), as a pandas Series of
        the column's dtype: an integer column's rounded to the nearest integer
        its dtype holds."""
        import pandas as pd

        dtype, values = column.dtype, block[:, 0]
        if not dtype.lower().startswith(("int", "uint")):
            return pd.Series(values).astype(dtype if dtype.startswith(("float", "Float"))
                                            else "float64")
        info = np.iinfo(dtype.lower())
        return pd.Series(np.clip(np.rint(values), info.min, info.max)).astype(dtype)

    def losses(self, raw, target, spans):
        """Per-row loss of each column at ``spans`` (its encoded columns),
        (n, len(spans)), NaN where the target is missing."""
        # Missing targets enter as 0 and come out as NaN (t * 0): the NaN
        # never reaches the gradient, which a masked mean then drops.
        index = [start for start, _ in spans]
        t = target[:, index]
        return (raw[:, index] - torch.nan_to_num(t)) ** 2 + t * 0

    def link(self, out, raw, spans):
        """Set the columns at ``spans`` of ``out`` to the data space (here the
        identity: ``out`` is a copy of ``raw``)."""

    def choices(self, width):
        """The values a column can take (rows of a tensor), None for any."""
        return None

    def onnx(self, build, name, type_name, column):
        """The column's encoded float32 input in an ONNX graph."""
        return _cast(build, name, type_name)


class Boolean(Numeric):
    """A boolean: one 0/1 column, predicted as a probability (sigmoid and
    binary cross-entropy)."""

    name = "boolean"
    scaled = False

    def takes(self, dtype):
        import pandas as pd

        return pd.api.types.is_bool_dtype(dtype)

    def encode(self, values, column, warn=True):
        missing = _missing(values)
        present = values[~missing]
        if not all(isinstance(v, bool | np.bool_) or v in (0, 1) for v in present.tolist()):
            raise ValueError(f"Column {column.name!r} is boolean at fit, but holds other "
                             "values now.")
        out = np.full((len(values), 1), np.nan)
        out[~missing, 0] = present.astype(bool).to_numpy()
        return out

    def decode(self, block, column):
        import pandas as pd

        return pd.Series(block[:, 0] > 0.5).astype(
            "boolean" if column.dtype == "boolean" else bool)

    def losses(self, raw, target, spans):
        index = [start for start, _ in spans]
        t = target[:, index]
        return nn.functional.binary_cross_entropy_with_logits(
            raw[:, index], torch.nan_to_num(t), reduction="none") + t * 0  # NaN where missing

    def link(self, out, raw, spans):
        index = [start for start, _ in spans]
        out[:, index] = torch.sigmoid(raw[:, index])

    def choices(self, width):
        return torch.tensor([[0.0], [1.0]])


class Categorical(Numeric):
    """A category: a one-hot group, one column per category seen at fit,
    predicted with a softmax and cross-entropy; a category not seen at fit
    is all zeros (with a warning), a missing entry NaN in the whole group."""

    name = "categorical"
    scaled = False

    def takes(self, dtype):
        import pandas as pd

        return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype) \
            or pd.api.types.is_string_dtype(dtype)

    def categories(self, series, name):
        """The categories, in order: a pandas category dtype's own, else the
        sorted distinct values; one category only, or values of mixed
        types, are errors."""
        import pandas as pd

        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = list(series.cat.categories)
        else:
            observed = series[series.notna()].tolist()
            odd = next((v for v in observed if not isinstance(v, str | bool | int | float
                                                              | np.generic)), None)
            if odd is not None:
                # The wording scikit-learn's check_dtype_object expects.
                raise TypeError(f"Column {name!r} holds a {type(odd).__name__}: the argument "
                                "must be a string or a number (a categorical column's values "
                                "are strings, numbers or booleans).")
            observed = list(dict.fromkeys(observed))
            if len({type(v) for v in observed}) > 1 and not all(
                    isinstance(v, int | float | np.number) and not isinstance(v, bool)
                    for v in observed):
                kinds = sorted({type(v).__name__ for v in observed})
                raise ValueError(f"Column {name!r} mixes values of types {kinds}: make its "
                                 "values one type (e.g. all strings) to use it as a "
                                 "categorical column.")
            categories = sorted(observed)
        if len(categories) < 2:
            raise ValueError(f"Column {name!r} has {len(categories)} category "
                             f"({categories}): a categorical column needs two or more; drop it.")
        return tuple(categories)

    def width(self, categories):
        return len(categories)

    def encode(self, values, column, warn=True):
        import pandas as pd

        missing = _missing(values)
        codes = pd.Index(list(column.categories), dtype=object).get_indexer(
            values.astype(object))
        codes[missing] = -2
        unseen = set(values[codes == -1])
        if unseen and warn:
            warnings.warn(f"Column {column.name!r} has categories not seen during fit, "
                          f"encoded as none of them: {sorted(map(str, unseen))[:5]}.",
                          UserWarning, stacklevel=5)
        out = np.zeros((len(values), len(column.categories)))
        seen = codes >= 0
        out[np.flatnonzero(seen), codes[seen]] = 1.0
        out[codes == -2] = np.nan
        return out

    def decode(self, block, column):
        """The most probable category."""
        import pandas as pd

        labels = np.asarray(column.categories, dtype=object)[np.argmax(block, axis=1)]
        if column.dtype == "category":
            return pd.Series(pd.Categorical(labels, categories=list(column.categories)))
        series = pd.Series(labels)
        try:
            return series.astype(column.dtype)
        except (TypeError, ValueError):
            return series

    def losses(self, raw, target, spans):
        parts = []
        for start, stop in spans:
            t = target[:, start:stop]
            log_p = torch.log_softmax(raw[:, start:stop], dim=-1)
            parts.append(-(torch.nan_to_num(t) * log_p).sum(-1, keepdim=True) + t[:, :1] * 0)
        return torch.cat(parts, dim=-1)

    def link(self, out, raw, spans):
        for start, stop in spans:
            out[:, start:stop] = torch.softmax(raw[:, start:stop], dim=-1)

    def choices(self, width):
        return torch.eye(width)

    def onnx(self, build, name, type_name, column):
        """One-hot by ai.onnx.ml's ``OneHotEncoder`` over the fitted
        categories (an unseen one: all zeros, as in Python)."""
        from onnx import TensorProto

        if type_name == "StringTensorType":
            categories = {"cats_strings": [str(c) for c in column.categories]}
        elif all(float(c).is_integer() for c in column.categories):
            categories = {"cats_int64s": [int(c) for c in column.categories]}
            if type_name != "Int64TensorType":
                name = build.node("Cast", [name], to=TensorProto.INT64)
        else:
            raise ValueError(f"categorical column {column.name!r} has categories that are "
                             "neither strings nor integers: ONNX's OneHotEncoder takes those.")
        hot = build.node("OneHotEncoder", [name], op_domain="ai.onnx.ml", op_version=1,
                         zeros=1, **categories)
        width = build.constant("skae_width", [-1, len(column.categories)], TensorProto.INT64,
                               np.int64)
        return build.node("Reshape", [hot, width])


#: The kinds by name, in the order the likelihood lays their columns out
#: (the Gaussian, scaled ones first).
KINDS = {kind.name: kind for kind in (Numeric(), Boolean(), Categorical())}

#: The order in which a dtype is matched: a boolean dtype is numeric to
#: pandas, and strings are objects.
_DETECTION = (KINDS["boolean"], KINDS["categorical"], KINDS["numeric"])


def kind_of(dtype):
    """The kind whose dtypes include ``dtype`` (a pandas dtype), or None."""
    return next((kind for kind in _DETECTION if kind.takes(dtype)), None)


def _missing(values):
    import pandas as pd

    return pd.isna(values).to_numpy()


def _cast(build, name, type_name):
    from onnx import TensorProto

    return name if type_name == "FloatTensorType" else build.node("Cast", [name],
                                                                   to=TensorProto.FLOAT)
