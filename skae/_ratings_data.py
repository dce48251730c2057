"""Ratings data for the recommender, the imputer's ratings example and their
benchmarks: synthetic low-rank ratings (as a matrix or as pairs), the
truncated-SVD baseline, and the MovieLens-100K reader (the data are read
from where you put them; skae does not ship them). Public through
:mod:`skae.datasets`."""

import math
import os
from pathlib import Path

import numpy as np

#: Environment variable naming MovieLens-100K's directory or ratings file.
MOVIELENS_ENV = "SKAE_MOVIELENS_DIR"


def synthetic_ratings(n_users=1000, n_items=200, *, rank=5, observed=0.1, noise=0.3,
                      random_state=0):
    """A users x items ratings matrix of known low rank, mostly unobserved.

    Ratings are ``3 + U V^T / sqrt(rank)`` plus Gaussian ``noise`` (so
    ``noise`` is the best RMSE any method can reach), with standard normal
    user and item factors; each rating is observed with probability
    ``observed``.

    Parameters
    ----------
    n_users, n_items : int, default=1000, 200
        The matrix's shape.
    rank : int, default=5
        The rank of the noiseless ratings.
    observed : float, default=0.1
        The probability that a rating is observed.
    noise : float, default=0.3
        The standard deviation of the Gaussian noise added to every rating.
    random_state : int, default=0
        Seed of the generator the draws come from.

    Returns
    -------
    ratings : ndarray of shape (n_users, n_items)
        Every rating, the observed and the unobserved.
    observed : ndarray of bool of shape (n_users, n_items)
        Which ratings are observed.
    """
    rng = np.random.default_rng(random_state)
    users = rng.normal(size=(n_users, rank))
    items = rng.normal(size=(n_items, rank))
    ratings = 3 + users @ items.T / math.sqrt(rank) + noise * rng.normal(size=(n_users, n_items))
    return ratings, rng.random(ratings.shape) < observed


def svd_impute(X, rank, iterations=50):
    """The truncated-SVD baseline of the ratings comparisons (hard-impute).

    NaN entries start at the column means, then are replaced, ``iterations``
    times, by those of the rank-``rank`` SVD of the centred filled matrix.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data whose missing entries are NaN.
    rank : int
        Rank of the truncated SVD.
    iterations : int, default=50
        Refits of the SVD to its own fills.

    Returns
    -------
    X_filled : ndarray of shape (n_samples, n_features)
        X with its NaN entries filled (the observed ones unchanged).
    """
    missing = np.isnan(X)
    filled = np.where(missing, np.nanmean(X, axis=0), X)
    for _ in range(iterations):
        center = filled.mean(axis=0)
        U, s, Vt = np.linalg.svd(filled - center, full_matrices=False)
        filled = np.where(missing, (U[:, :rank] * s[:rank]) @ Vt[:rank] + center, X)
    return filled


_MOVIELENS_FILES = ("u.data", "ml-100k.inter")


def load_movielens(path=None):
    """Read MovieLens-100K's ratings from a file or directory you obtained.

    The data may not be redistributed, so skae does not ship it. Get
    GroupLens' ``ml-100k.zip`` (https://grouplens.org/datasets/movielens/100k/,
    the file ``u.data``), or the copy in RecBole's wheel (``pip download
    --no-deps recbole==1.2.1``, then unzip
    ``recbole/dataset_example/ml-100k/ml-100k.inter``).

    Parameters
    ----------
    path : str or path-like, default=None
        ``u.data`` (tab-separated user, item, rating, timestamp), RecBole's
        ``ml-100k.inter`` (the same with a header line), or a directory
        holding either. None reads the environment variable
        ``SKAE_MOVIELENS_DIR``.

    Returns
    -------
    pairs : ndarray of shape (n_ratings, 2)
        User and item ids (int64).
    ratings : ndarray of shape (n_ratings,)
        The ratings, 1 to 5 stars (float64).
    """
    path = path if path is not None else os.environ.get(MOVIELENS_ENV)
    if path is None:
        raise ValueError(f"Pass the path of MovieLens-100K's u.data or ml-100k.inter, or set "
                         f"${MOVIELENS_ENV}.")
    path = Path(path)
    if path.is_dir():
        found = [path / name for name in _MOVIELENS_FILES if (path / name).is_file()]
        if not found:
            raise ValueError(f"{path} holds neither of {', '.join(_MOVIELENS_FILES)}.")
        path = found[0]
    with open(path) as f:
        header = f.readline()
    skip = 0 if header.split("\t")[0].strip().isdigit() else 1
    table = np.loadtxt(path, delimiter="\t", skiprows=skip, ndmin=2)
    if table.shape[1] < 3:
        raise ValueError(f"{path}: expected user, item and rating columns; got "
                         f"{table.shape[1]} column(s).")
    return table[:, :2].astype(np.int64), table[:, 2].astype(np.float64)


def synthetic_pairs(n_users=1000, n_items=200, n_ratings=20000, *, rank=5, noise=0.3,
                    random_state=0):
    """Ratings of known low rank as (user, item) pairs, for recommenders.

    ``rating = 3 + user_factors @ item_factors / sqrt(rank) + noise``, the
    model of :func:`synthetic_ratings`, drawn at ``n_ratings`` distinct
    pairs chosen at random (items with popularity falling off as in real
    ratings), generated without forming the users x items matrix.

    Parameters
    ----------
    n_users, n_items : int, default=1000, 200
        How many users and items there are.
    n_ratings : int, default=20000
        How many distinct (user, item) pairs are rated.
    rank : int, default=5
        The rank of the noiseless ratings.
    noise : float, default=0.3
        The standard deviation of the Gaussian noise added to every rating.
    random_state : int, default=0
        Seed of the generator the draws come from.

    Returns
    -------
    pairs : ndarray of shape (n_ratings, 2)
        User and item numbers (int64).
    ratings : ndarray of shape (n_ratings,)
        The ratings (float64, not rounded).
    """
    rng = np.random.default_rng(random_state)
    users = rng.normal(size=(n_users, rank))
    items = rng.normal(size=(n_items, rank))
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.5
    popularity /= popularity.sum()
    draw = int(n_ratings * 1.3) + 100
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_ratings:
        u = rng.integers(0, n_users, draw)
        i = rng.choice(n_items, draw, p=popularity)
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * n_items + i]))
    keys = rng.permutation(keys)[:n_ratings]
    u, i = keys // n_items, keys % n_items
    ratings = 3 + np.einsum("ij,ij->i", users[u], items[i]) / math.sqrt(rank)
    ratings += noise * rng.normal(size=n_ratings)
    return np.column_stack([u, i]), ratings
