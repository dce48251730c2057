"""Tables of numeric, boolean and categorical columns: the kind of each
column, how a table becomes the network's numbers and how they become the
user's table again (numpy, and pandas or polars where the input is one).

A categorical column becomes a group of one-hot columns, one per category
seen at fit; a boolean column one 0/1 column; a numeric column itself.
Missing entries (NaN, None, pandas' NA) are NaN in every column of their
group; a category not seen at fit is all zeros in its group (with a
warning). :class:`Schema` keeps what it needs to decode the network's output
back to the user's columns, names, dtypes and categories.
"""

from dataclasses import dataclass, replace
from numbers import Integral

import numpy as np

from ._frames import (
    POLARS_NAMES,
    as_pandas,
    frame_kind,
    kind_error,
    pandas_dtype,
    polars_dtype,
    polars_name,
)
from ._kinds import KINDS, kind_of

__all__ = ["Column", "Schema"]


@dataclass(frozen=True)
class Column:
    """One input column: its name (a string, or its position for arrays),
    kind, categories (a categorical column's, in order) and dtype (as
    ``str(dtype)``, or a polars dtype's base name such as ``"Enum"`` for a
    table fitted on a polars DataFrame; restored by :meth:`Schema.decode`)."""

    name: object
    kind: str
    categories: tuple = ()
    dtype: str = "float64"

    @property
    def width(self):
        """Encoded columns of this column."""
        return KINDS[self.kind].width(self.categories)

    def to_plain(self):
        """This column as JSON-compatible plain data."""
        return {"name": self.name, "kind": self.kind, "dtype": self.dtype,
                "categories": [_plain(c) for c in self.categories]}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _dtype_kind(series, name):
    """The kind a column's dtype says (pandas Series ``name``,
    ``skae._kinds``); dates, durations, periods, intervals and complex
    numbers are errors."""
    kind = kind_of(series.dtype)
    if kind is None:
        raise kind_error(name, series.dtype)
    return kind.name


def _selected(categorical_features, names):
    """Which of the columns ``names`` the user's ``categorical_features``
    (names, positions or a boolean mask) marks categorical."""
    chosen = list(categorical_features)
    if len(chosen) == len(names) and all(isinstance(c, bool | np.bool_) for c in chosen):
        return [bool(c) for c in chosen]
    marked = [False] * len(names)
    for c in chosen:
        if isinstance(c, Integral) and not isinstance(c, bool):
            if not 0 <= c < len(names):
                raise ValueError(f"categorical_features has position {c}, but X has "
                                 f"{len(names)} columns.")
            marked[int(c)] = True
        elif c in names:
            marked[names.index(c)] = True
        else:
            raise ValueError(f"categorical_features names {c!r}, which is not a column of X.")
    return marked


class Schema:
    """The columns of a table and their encoding (see the module's docstring).

    Parameters
    ----------
    columns : list of Column
    frame : {"pandas", "polars"} or None
        What the table was fitted on: :meth:`decode` returns the same.
    """

    def __init__(self, columns, frame=None):
        self.columns = list(columns)
        self.frame = frame
        widths = [c.width for c in self.columns]
        self.starts = np.concatenate([[0], np.cumsum(widths)]).astype(int)

    # ---------------------------------------------------------------- fitting
    @classmethod
    def infer(cls, X, categorical_features=None):
        """The schema of X, or None for a table of numbers alone (which skae
        trains on as it is).

        Kinds come from the dtypes of a DataFrame's columns (bool: boolean;
        category, object, string: categorical; numbers: numeric), with the
        columns named in ``categorical_features`` categorical whatever their
        dtype (names, positions or a boolean mask, as
        ``HistGradientBoostingClassifier`` takes them). An object array is
        read as a DataFrame of its columns.
        """
        fitted_on = frame_kind(X)
        frame = as_pandas(X)
        if frame is None:
            X = np.asarray(X) if not hasattr(X, "dtype") else X
            if getattr(X, "dtype", None) is not None and X.dtype != object \
                    and categorical_features is None:
                return None
            import pandas as pd

            frame = pd.DataFrame(np.asarray(X)).infer_objects()
            names = list(range(frame.shape[1]))
        else:
            names = list(frame.columns)
        kinds = [_dtype_kind(frame[name], name) for name in names]
        if categorical_features is not None:
            for i, marked in enumerate(_selected(categorical_features, names)):
                if marked:
                    kinds[i] = "categorical"
        if all(KINDS[kind].scaled for kind in kinds):
            return None
        columns = []
        for name, kind in zip(names, kinds, strict=True):
            series = frame[name]
            categories = KINDS[kind].categories(series, name)
            dtype = polars_name(X[name]) if fitted_on == "polars" else str(series.dtype)
            columns.append(Column(name if isinstance(name, str) else int(name), kind,
                                  categories, dtype))
        return cls(columns, fitted_on)

    # -------------------------------------------------------------- encoding
    @property
    def n_encoded(self):
        """Width of the encoded table."""
        return int(self.starts[-1])

    def groups(self):
        """``(kind, start, stop)`` of each column in the encoded table."""
        return [(c.kind, int(a), int(b))
                for c, a, b in zip(self.columns, self.starts[:-1], self.starts[1:], strict=True)]

    def subset(self, keep):
        """The schema of the columns where ``keep`` (bool per column) is True."""
        return Schema([c for c, k in zip(self.columns, keep, strict=True) if k], self.frame)

    def expand(self, per_column):
        """Values per column repeated over each column's encoded columns."""
        return np.repeat(np.asarray(per_column), [c.width for c in self.columns])

    def loss_spec(self):
        """The groups that :func:`skae._loss.get_loss` builds the table's
        loss from (plain data)."""
        return [list(group) for group in self.groups()]

    def numeric_mask(self):
        """Which encoded columns are numeric."""
        mask = np.zeros(self.n_encoded, bool)
        for kind, start, stop in self.groups():
            mask[start:stop] = KINDS[kind].scaled
        return mask

    def frame_of(self, X):
        """X as a pandas DataFrame with this schema's column names."""
        import pandas as pd

        frame = as_pandas(X)
        if frame is None:
            frame = pd.DataFrame(np.asarray(X, dtype=object)).infer_objects()
        names = [c.name for c in self.columns]
        if frame.shape[1] != len(names):
            raise ValueError(f"X has {frame.shape[1]} columns, but the model was fitted on "
                             f"{len(names)}.")
        if not all(isinstance(n, str) for n in names):
            frame = frame.set_axis(range(frame.shape[1]), axis=1)
        return frame

    def encode(self, X, warn=True, dtype=np.float32):
        """X as numbers of shape (n_rows, :attr:`n_encoded`), NaN where an
        entry is missing (a whole group for a categorical column); a
        category not seen at fit is all zeros (a ``UserWarning`` names it)."""
        frame = self.frame_of(X)
        out = np.zeros((len(frame), self.n_encoded), dtype)
        for column, start in zip(self.columns, self.starts[:-1], strict=False):
            out[:, start:start + column.width] = KINDS[column.kind].encode(
                frame[column.name], column, warn)
        return out

    # -------------------------------------------------------------- decoding
    def decode(self, values, frame=None):
        """The table of encoded ``values`` (the network's output in the data
        space: numbers, probabilities of booleans, probabilities of each
        category): numbers as they are, booleans above 0.5, the most
        probable category. A DataFrame of the fitted columns' names and
        dtypes for ``frame`` "pandas" or "polars" (default: what the schema
        was fitted on), else an object array."""
        import pandas as pd

        data = {}
        for column, start in zip(self.columns, self.starts[:-1], strict=False):
            if self._polars_dtype(column):
                column = replace(column, dtype=pandas_dtype(column.dtype))
            data[column.name] = KINDS[column.kind].decode(
                values[:, start:start + column.width], column)
        return self.as_fitted(pd.DataFrame(data), frame)

    def _polars_dtype(self, column):
        """Whether ``column`` keeps a polars dtype (fitted on polars)."""
        return self.frame == "polars" and column.dtype in POLARS_NAMES

    def as_fitted(self, table, frame=None):
        """A pandas DataFrame ``table`` as the kind of table ``frame`` names
        (default: the one the schema was fitted on), else an object array."""
        frame = self.frame if frame is None else frame
        if frame == "pandas":
            return table
        if frame == "polars":  # column by column: pl.from_pandas needs pyarrow
            import polars as pl

            dtypes = {c.name: polars_dtype(c) for c in self.columns if self._polars_dtype(c)}
            return pl.DataFrame([pl.Series(name, table[name].tolist(), dtype=dtypes.get(name))
                                 for name in table.columns])
        return table.to_numpy(dtype=object)

    def probabilities(self, values):
        """Each categorical column's category probabilities in encoded
        ``values``: a dict of name to (n_rows, n_categories) arrays."""
        return {c.name: values[:, a:a + c.width] for c, a in zip(
            self.columns, self.starts[:-1], strict=False) if c.categories}

    def to_plain(self):
        return {"frame": self.frame, "columns": [c.to_plain() for c in self.columns]}

    @classmethod
    def from_plain(cls, plain):
        return cls([Column(c["name"], c["kind"], tuple(c["categories"]), c["dtype"])
                    for c in plain["columns"]], plain["frame"])
