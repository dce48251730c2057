"""Ratings as the recommender reads them (numpy and scipy only): (user,
item) pairs with ids of any hashable kind, the index of each id, the ratings
matrix they make (sparse: memory grows with the number of ratings), the
damped biases of users and items; top-n lists and their metrics are in
``_ranking.py``."""

import functools
import math

import numpy as np
import scipy.sparse as sp

__all__ = ["IdIndex", "Ratings", "damped_biases", "ratings_matrix", "validate_pairs"]


def _column(X, j):
    """Column ``j`` of a DataFrame (pandas or polars) or a 2-D array, as a
    1-D numpy array."""
    if hasattr(X, "columns"):
        series = X[list(X.columns)[j]]
        return series.to_numpy() if hasattr(series, "to_numpy") else np.asarray(series)
    return X[:, j]


def _has_missing(ids):
    """Which ids are missing (None, NaN, pandas' NA)."""
    if ids.dtype.kind == "f":
        return np.isnan(ids)
    if ids.dtype.kind != "O":
        return np.zeros(len(ids), dtype=bool)
    return np.array([v is None or (isinstance(v, float) and math.isnan(v))
                     or type(v).__name__ in ("NAType", "NaTType") for v in ids], dtype=bool)


def validate_pairs(X, y=None, *, name="X", require_y=False):
    """``(users, items, ratings)`` of pairs ``X`` (a DataFrame of two columns,
    users then items, or a 2-column array; ids of any hashable kind) and
    their ratings ``y`` (None: implicit feedback, each pair an
    interaction); a clear ``ValueError`` for what is not pairs."""
    if X is None:
        raise ValueError(f"{name} must be (user, item) pairs: a DataFrame with two columns "
                         "or an array of shape (n_pairs, 2); got None.")
    if not hasattr(X, "columns"):
        if sp.issparse(X):
            raise TypeError(f"{name} must be (user, item) pairs, not a sparse matrix; for a "
                            "users x items matrix pass its pairs, e.g. np.argwhere(R) or "
                            "R.nonzero(), with R.data as y.")
        # A list of mixed ids stays objects (numpy would make numbers text).
        X = np.asarray(X, dtype=object if isinstance(X, list | tuple) else None)
    if not hasattr(X, "columns") and X.dtype.kind == "c":
        raise ValueError("Complex data not supported: ids are numbers, strings or other "
                         "hashable values.")
    n_columns = len(X.columns) if hasattr(X, "columns") else (X.shape[1] if X.ndim == 2 else 0)
    if n_columns != 2:
        shape = (len(X), n_columns) if hasattr(X, "columns") else X.shape
        raise ValueError(f"Found array with {n_columns} feature(s) (shape={shape}) while "
                         f"{'a minimum of ' if n_columns < 2 else ''}2 is required: {name} "
                         "must be (user, item) pairs, two columns, users then items.")
    users, items = _column(X, 0), _column(X, 1)
    if len(users) == 0:
        raise ValueError(f"{name} has no pairs: a recommender needs at least one rating.")
    for ids, what in ((users, "user"), (items, "item")):
        missing = _has_missing(ids)
        if missing.any():
            raise ValueError(f"{name} has a missing {what} id at row {int(np.argmax(missing))} "
                             f"({int(missing.sum())} in all): every pair needs a user and an "
                             "item.")
    if y is None:
        if require_y:
            raise ValueError("y (the ratings) is required.")
        return users, items, None
    y = np.asarray(y)
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        raise ValueError(f"y must be one rating per pair (1-D); got shape {y.shape}.")
    y = y.reshape(-1)
    if y.dtype.kind not in "biuf":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("y must hold numbers (the ratings); got values of dtype "
                             f"{y.dtype}, e.g. {y[0]!r}.") from None
    y = y.astype(np.float64)
    if len(y) != len(users):
        raise ValueError(f"{name} has {len(users)} pairs but y has {len(y)} ratings.")
    if not np.isfinite(y).all():
        raise ValueError(f"y has {int((~np.isfinite(y)).sum())} ratings that are NaN or "
                         "infinite: leave unknown ratings out of the pairs instead.")
    return users, items, y


class IdIndex:
    """The ids seen at fit, sorted, and each id's position among them.

    Numbers and strings are indexed by sorting (fast for millions); other
    hashable ids (tuples, mixed kinds) by a dictionary, in order of first
    appearance.
    """

    def __init__(self, ids):
        ids = self._plain(np.asarray(ids))
        if ids.dtype.kind == "O":
            self.lookup = {}
            for value in ids:
                self.lookup.setdefault(value, len(self.lookup))
            self.ids = np.empty(len(self.lookup), dtype=object)
            self.ids[:] = list(self.lookup)
        else:
            self.lookup = None
            self.ids = np.unique(ids)

    @staticmethod
    def _plain(ids):
        """An object array of one kind of scalar as that kind's numpy array."""
        if ids.dtype.kind != "O" or len(ids) == 0:
            return ids
        kinds = {type(v) for v in ids}
        if all(issubclass(k, str) for k in kinds):
            return ids.astype(str)
        for kind, dtype in ((int | np.integer, np.int64), (float | np.floating, np.float64)):
            if all(issubclass(k, kind) and not issubclass(k, bool) for k in kinds):
                try:
                    return ids.astype(dtype)
                except (TypeError, ValueError, OverflowError):
                    return ids
        return ids

    def __len__(self):
        return len(self.ids)

    def positions(self, ids):
        """Each id's position (int64), -1 for an id not seen at fit."""
        ids = np.asarray(ids)
        if self.lookup is not None:
            return np.fromiter((self.lookup.get(v, -1) for v in ids.tolist()), np.int64,
                               len(ids))
        ids = self._plain(ids)
        if ids.dtype.kind == "O" or ids.dtype.kind != self.ids.dtype.kind and not (
                ids.dtype.kind in "iuf" and self.ids.dtype.kind in "iuf"):
            # Ids of mixed or other kinds than at fit: each looked up alone.
            table = dict(zip(self.ids.tolist(), range(len(self.ids)), strict=True))
            return np.fromiter((table.get(v, -1) for v in ids.tolist()), np.int64, len(ids))
        at = np.searchsorted(self.ids, ids).astype(np.int64, copy=False)
        np.minimum(at, len(self.ids) - 1, out=at)
        at[~np.asarray(self.ids[at] == ids, dtype=bool)] = -1
        return at


def ratings_matrix(rows, columns, values, shape):
    """The CSR matrix of ``values`` at (``rows``, ``columns``); a pair given
    twice keeps its last value. Built from one sort of the pairs' keys, in
    a few copies of the pairs' size."""
    key = rows.astype(np.int64) * shape[1] + columns
    order = np.argsort(key, kind="stable")  # a repeated pair's last is last
    key = key[order]
    last = np.ones(len(key), dtype=bool)
    last[:-1] = key[1:] != key[:-1]
    order, key = order[last], key[last]
    index = np.int32 if max(len(key), *shape) < 2**31 else np.int64
    indptr = np.zeros(shape[0] + 1, dtype=index)
    np.cumsum(np.bincount(key // shape[1], minlength=shape[0]), out=indptr[1:])
    return sp.csr_matrix((values[order].astype(np.float32), (key % shape[1]).astype(index),
                          indptr), shape=shape)


def damped_biases(rows, columns, values, shape, damping=(10.0, 10.0), iterations=10):
    """The global mean and the rows' and columns' biases of ratings: a
    least-squares fit of ``mean + row_bias + column_bias`` with each bias
    shrunk towards 0 as if it had ``damping`` more ratings at the mean
    (Koren 2010, the baseline predictors), by alternating updates.

    Returns
    -------
    mean : float
    row_bias : ndarray of shape (shape[0],)
    column_bias : ndarray of shape (shape[1],)
    """
    mean = float(np.mean(values))
    row_bias, column_bias = np.zeros(shape[0]), np.zeros(shape[1])
    row_count = np.bincount(rows, minlength=shape[0])
    column_count = np.bincount(columns, minlength=shape[1])
    for _ in range(iterations):
        column_bias = np.bincount(columns, values - mean - row_bias[rows], shape[1]) / (
            column_count + damping[1])
        row_bias = np.bincount(rows, values - mean - column_bias[columns], shape[0]) / (
            row_count + damping[0])
    return mean, row_bias, column_bias


class Ratings:
    """What a recommender keeps of its training pairs: the ids, the
    baseline (global mean, damped user and item biases), and the matrix the
    network reads, rows of items or of users (ratings less their baseline,
    or 1 per interaction), as a CSR matrix.

    Parameters
    ----------
    users, items : ndarray of shape (n_pairs,)
        The pairs' ids.
    ratings : ndarray of shape (n_pairs,) or None
        The ratings; None for interactions (implicit feedback).
    orientation : {"item", "user"}
        What a row of :attr:`matrix` is.
    damping : float
        The biases' shrinkage (:func:`damped_biases`).
    """

    def __init__(self, users, items, ratings, orientation, damping):
        self.users, self.items = IdIndex(users), IdIndex(items)
        self.explicit, self.orientation, self.damping = ratings is not None, orientation, damping
        u, i = self.users.positions(users), self.items.positions(items)
        shape = (len(self.users), len(self.items))
        if ratings is None:
            counts = np.bincount(i, minlength=shape[1]).astype(float)
            self.mean, self.user_bias = 0.0, np.zeros(shape[0])
            self.item_bias = counts / counts.sum()
            self.range, values = (0.0, 1.0), np.ones(len(u))
        else:
            self.mean, self.user_bias, self.item_bias = damped_biases(
                u, i, ratings, shape, damping=(damping, damping))
            self.range = (float(ratings.min()), float(ratings.max()))
            values = ratings - self.mean  # less the baseline, in place (every id is known)
            values -= self.user_bias[u]
            values -= self.item_bias[i]
        self.matrix = (ratings_matrix(i, u, values, shape[::-1]) if orientation == "item"
                       else ratings_matrix(u, i, values, shape))

    def baseline(self, u, i):
        """The baseline of pairs of positions (-1: not seen at fit): of
        ratings, the global mean plus the biases known; of interactions,
        an item's share for a new user, 0 for a new item or a known user."""
        known_u, known_i = u >= 0, i >= 0
        item = np.where(known_i, self.item_bias[np.maximum(i, 0)], 0.0)
        if not self.explicit:
            return np.where(known_u, 0.0, item)
        return self.mean + np.where(known_u, self.user_bias[np.maximum(u, 0)], 0.0) + item

    @functools.cached_property
    def by_user(self):  # users as rows: item rows transposed once
        return self.matrix.T.tocsr() if self.orientation == "item" else self.matrix

    def user_rows(self, u):
        """The entries of users at positions ``u`` (an empty row where u is
        -1), users x items."""
        return (sp.diags((u >= 0).astype(np.float32)) @ self.by_user[np.maximum(u, 0)]).tocsr()

    def fold_in(self, users, history):
        """Which of ``users`` are in ``history`` (pairs, and for ratings a
        third column of ratings), and a row per user of their history as
        given (ratings, or 1 per interaction; items as columns; empty for
        the others)."""
        if self.orientation != "user":
            raise ValueError("history (folding in users) needs user rows: fit with orientation="
                             "'user' (with item rows a new user is a new input of every row).")
        pairs, ratings = history, None
        if hasattr(history, "columns"):
            if len(history.columns) == 3:
                names = list(history.columns)
                pairs, ratings = history[names[:2]], history[names[2]]
        else:
            pairs = history = np.asarray(history, dtype=object)
            if history.ndim == 2 and history.shape[1] == 3:
                pairs, ratings = history[:, :2], history[:, 2]
        h_users, h_items, ratings = validate_pairs(pairs, ratings, name="history")
        if self.explicit and ratings is None:
            raise ValueError("history needs a third column of ratings: the recommender was "
                             "fitted on ratings.")
        index = IdIndex(users)
        row_of, i = index.positions(h_users), self.items.positions(h_items)
        keep = (i >= 0) & (row_of >= 0)  # items not seen at fit are no input of the network
        row_of, i = row_of[keep], i[keep]
        values = ratings[keep] if self.explicit else np.ones(len(i))
        rows = ratings_matrix(row_of, i, values, (len(index), len(self.items)))
        rows = rows[np.maximum(index.positions(users), 0)]
        return np.diff(rows.indptr) > 0, rows

    def state(self):
        """Plain data of what :meth:`from_state` rebuilds."""
        if self.users.lookup is not None or self.items.lookup is not None:
            raise TypeError("skae.save stores ids that are numbers or strings; these ids "
                            "are other objects (tuples, mixed kinds): use pickle or joblib.")
        m = self.matrix
        return {"users": self.users.ids.tolist(), "items": self.items.ids.tolist(),
                "explicit": self.explicit, "orientation": self.orientation,
                "damping": self.damping, "mean": self.mean,
                "user_bias": self.user_bias.tolist(), "item_bias": self.item_bias.tolist(),
                "range": list(self.range), "data": m.data.tolist(),
                "indices": m.indices.tolist(), "indptr": m.indptr.tolist(),
                "shape": list(m.shape)}

    @classmethod
    def from_state(cls, state):
        self = cls.__new__(cls)
        self.users, self.items = IdIndex(state["users"]), IdIndex(state["items"])
        self.explicit, self.orientation = state["explicit"], state["orientation"]
        self.damping, self.mean = state["damping"], state["mean"]
        self.user_bias = np.asarray(state["user_bias"], dtype=float)
        self.item_bias = np.asarray(state["item_bias"], dtype=float)
        self.range = tuple(state["range"])
        self.matrix = sp.csr_matrix(
            (np.asarray(state["data"], dtype=np.float32), np.asarray(state["indices"]),
             np.asarray(state["indptr"])), shape=tuple(state["shape"]))
        return self
