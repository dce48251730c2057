"""Top-n lists and the ranking metrics of recommendations (numpy and scipy
only): the recommender's ranking of items for a batch of users, Recall@k as
Liang et al. (2018) define it, and NDCG@k with binary relevance."""

import numpy as np
import scipy.sparse as sp

__all__ = ["ndcg_at_k", "recall_at_k", "top_items", "top_n"]


def top_items(data, networks, u, folded, rows, n, exclude_seen):
    """Positions of the top ``n`` items of users at positions ``u`` (-1:
    not seen at fit) of :class:`~skae._ratings.Ratings` ``data``, those
    ``folded`` in from ``rows`` (their histories, users x items), by the
    scores ``networks`` (users x items) of the users seen or folded in."""
    ranked = (u >= 0) | folded
    # Users neither seen nor folded in: the items of highest bias (ratings)
    # or share (interactions).
    scores = np.tile(data.item_bias.astype(np.float32), (len(u), 1))
    scores[ranked] = networks[ranked]
    seen = None
    if exclude_seen:
        seen = data.user_rows(np.where(folded, -1, u))
        if folded.any():
            pattern = rows.copy()
            pattern.data[:] = 1.0
            seen = seen + sp.diags(folded.astype(np.float32)) @ pattern
        seen = seen.tocsr()
    return top_n(scores, n, seen, copy=False)


def top_n(scores, n, seen=None, copy=True):
    """Positions of the ``n`` highest scores of each row, best first,
    leaving out the entries of the CSR matrix ``seen`` (its stored ones;
    with ``copy=False`` they are set to -inf in ``scores`` itself)."""
    scores = np.array(scores) if copy else np.asarray(scores)
    if seen is not None:
        rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
        scores[rows, seen.indices] = -np.inf
    n = min(int(n), scores.shape[1])
    best = np.argpartition(-scores, n - 1, axis=1)[:, :n] if n < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    order = np.argsort(-np.take_along_axis(scores, best, 1), axis=1, kind="stable")
    return np.take_along_axis(best, order, 1)


def _hits(recommended, relevant):
    """Whether each recommended position is in the row's relevant set
    (``relevant``: a CSR matrix of the held-out positives)."""
    return np.array([np.isin(row, relevant.indices[relevant.indptr[u]:relevant.indptr[u + 1]])
                     for u, row in enumerate(recommended)], dtype=bool).reshape(
        recommended.shape)


def recall_at_k(recommended, relevant, k):
    """Mean over the rows with a relevant item of hits in the top ``k`` over
    ``min(k, number relevant)`` (Liang et al. 2018's Recall@k).

    ``recommended``: ranked positions per row, as :func:`top_n` gives;
    ``relevant``: a CSR matrix whose stored entries are the relevant items.
    """
    n_relevant = np.diff(relevant.indptr)
    rows = np.flatnonzero(n_relevant)
    hits = _hits(recommended[rows, :k], relevant[rows])
    return float(np.mean(hits.sum(1) / np.minimum(k, n_relevant[rows])))


def ndcg_at_k(recommended, relevant, k):
    """Mean over the rows with a relevant item of the normalized discounted
    cumulative gain of the top ``k`` (binary relevance)."""
    n_relevant = np.diff(relevant.indptr)
    rows = np.flatnonzero(n_relevant)
    hits = _hits(recommended[rows, :k], relevant[rows])
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discount[: hits.shape[1]]).sum(1)
    ideal = np.cumsum(discount)[np.minimum(n_relevant[rows], k) - 1]
    return float(np.mean(dcg / ideal))
