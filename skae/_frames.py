"""pandas and polars DataFrames as skae reads them: which kind a table is,
a polars table as pandas columns of the same kinds (so that one code path
infers, encodes and decodes both), and the polars dtypes restored on the
way out. Only pandas is needed to read a polars table: no pyarrow."""

__all__ = ["POLARS_NAMES", "as_pandas", "frame_kind", "kind_error", "pandas_dtype",
           "polars_dtype", "polars_name"]


def frame_kind(X):
    """``"pandas"``, ``"polars"`` or None for anything else."""
    module = type(X).__module__.split(".")[0]
    if module == "pandas" and hasattr(X, "columns"):
        return "pandas"
    if module == "polars" and hasattr(X, "columns"):
        return "polars"
    return None


def as_pandas(X):
    """A DataFrame of X (pandas or polars), or None for arrays."""
    kind = frame_kind(X)
    if kind == "pandas":
        return X
    if kind == "polars":  # column by column: to_pandas needs pyarrow
        import pandas as pd

        return pd.DataFrame({name: _from_polars(X[name]) for name in X.columns})
    return None


#: Polars dtypes and the pandas dtypes that hold their values (Enum and
#: Categorical become pandas categories; integers with holes a nullable
#: integer dtype).
_POLARS_NUMBERS = ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
                   "Float32", "Float64")
_POLARS_OTHERS = {"Boolean": "bool", "String": "object", "Enum": "category",
                  "Categorical": "category", "Decimal": "float64"}
#: The polars dtypes a table's columns may have.
POLARS_NAMES = frozenset(_POLARS_NUMBERS) | set(_POLARS_OTHERS)


def pandas_dtype(name):
    """The pandas dtype that holds a polars dtype's values (its base name)."""
    return _POLARS_OTHERS.get(name, name.lower())


def polars_dtype(column):
    """The polars dtype of a :class:`skae._table.Column` fitted on a polars column
    (a decimal comes back as floats)."""
    import polars as pl

    if column.dtype == "Enum":
        return pl.Enum([str(c) for c in column.categories])
    return pl.Float64 if column.dtype == "Decimal" else getattr(pl, column.dtype)


def polars_name(series):
    """A polars column's dtype as :class:`skae._table.Column` keeps it (its base name)."""
    return series.dtype.base_type().__name__


def _from_polars(series):
    """A polars column as a pandas Series of the kind its dtype says."""
    import pandas as pd

    name = polars_name(series)
    values = series.to_list()
    if name == "Enum":
        return pd.Series(pd.Categorical(values, categories=list(series.dtype.categories)))
    if name == "Categorical":
        return pd.Series(pd.Categorical(values))
    if name in _POLARS_NUMBERS or name == "Boolean":
        holes = series.null_count() > 0
        return pd.Series(values, dtype=("boolean" if name == "Boolean" else name) if holes
                         else pandas_dtype(name))
    if name in _POLARS_OTHERS:
        return pd.Series(values, dtype=pandas_dtype(name))
    raise kind_error(series.name, series.dtype)


def kind_error(name, dtype):
    """The error for a column of a dtype that is none of the three kinds."""
    return TypeError(f"Column {name!r} has dtype {dtype}, which is neither numbers, booleans "
                     "nor categories: convert it (a date, e.g., to its year and month, or to "
                     "seconds) or drop it.")
