"""UMAP's neighbourhood structure as a loss on codes (torch, numpy and
scikit-learn only).

Parametric UMAP (Sainburg, McInnes & Gentner, 2021): the k-nearest-neighbour
graph of the training rows, weighted by UMAP's fuzzy memberships, and
UMAP's cross-entropy between that graph and the codes' similarities
``1 / (1 + a d^(2b))``, on edges sampled by weight and negatives drawn by
shuffling the sampled edges' tails, computed by the encoder inside the
training loop next to the reconstruction loss.
"""

import math
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import torch
from scipy.optimize import curve_fit
from sklearn.neighbors import NearestNeighbors

__all__ = ["NeighbourGraph", "fuzzy_graph", "memberships", "umap_curve"]

# Bounds of the probabilities inside the logarithms (UMAP's own clip).
_EPS = 1e-4


@lru_cache(maxsize=8)
def umap_curve(min_dist, spread=1.0):
    """UMAP's ``(a, b)``: ``1 / (1 + a d^(2b))`` fitted to 1 up to
    ``min_dist`` and ``exp(-(d - min_dist) / spread)`` beyond."""
    d = np.linspace(0, 3 * spread, 300)
    target = np.where(d < min_dist, 1.0, np.exp(-(d - min_dist) / spread))
    (a, b), _ = curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), d, target)
    return float(a), float(b)


def memberships(distances, n_neighbors, iterations=64):
    """UMAP's fuzzy memberships ``exp(-(d - rho) / sigma)`` of each row's
    neighbours (``distances``, nearest first, the row itself left out), with
    ``rho`` the nearest distance and ``sigma`` set by bisection so that the
    memberships of a row sum to ``log2(n_neighbors)``; ``n_neighbors``
    counts the row itself, as UMAP's does."""
    rho = distances[:, :1]
    excess = np.clip(distances - rho, 0, None)
    target = math.log2(n_neighbors)
    low = np.zeros((len(distances), 1))
    high = np.full((len(distances), 1), np.inf)
    sigma = np.ones((len(distances), 1))
    for _ in range(iterations):
        total = np.exp(-excess / sigma).sum(axis=1, keepdims=True)
        above = total > target
        high = np.where(above, sigma, high)
        low = np.where(above, low, sigma)
        sigma = np.where(np.isinf(high), 2 * sigma, (low + high) / 2)
    # UMAP's floor: a thousandth of the row's mean distance.
    sigma = np.maximum(sigma, 1e-3 * distances.mean(axis=1, keepdims=True))
    return np.exp(-excess / np.maximum(sigma, 1e-12))


def fuzzy_graph(X, n_neighbors=15):
    """UMAP's symmetric fuzzy graph of the rows of X (an array or a sparse
    matrix; exact neighbours by scikit-learn's ``NearestNeighbors``).

    Returns
    -------
    heads, tails : ndarray of int64
        The edges' end rows.
    weights : ndarray of float32
        The memberships ``w + w^T - w * w^T``.
    """
    n = X.shape[0]
    n_neighbors = min(n_neighbors, n)
    k = n_neighbors - 1  # the row itself counts as one, as in UMAP
    distances, index = NearestNeighbors(n_neighbors=n_neighbors).fit(X).kneighbors(X)
    # Each row is its own nearest neighbour; an exact duplicate may come first.
    own = index == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(own)
    keep[np.arange(n), drop] = False
    distances = distances[keep].reshape(n, k)
    index = index[keep].reshape(n, k)
    weights = memberships(distances, n_neighbors)
    graph = sp.csr_matrix((weights.ravel(), (np.repeat(np.arange(n), k), index.ravel())),
                          shape=(n, n))
    graph = (graph + graph.T - graph.multiply(graph.T)).tocoo()
    return (graph.row.astype(np.int64), graph.col.astype(np.int64),
            graph.data.astype(np.float32))


class NeighbourGraph:
    """The structure loss of one training: UMAP's graph of the training rows
    of ``data`` (a tensor) and the cross-entropy of codes against it.

    Parameters
    ----------
    data : tensor of shape (n_samples, n_features)
        The rows the graph's edges index (moved to where they are encoded,
        a batch of edges at a time).
    heads, tails, weights : ndarray
        The graph (:func:`fuzzy_graph`).
    min_dist : float
        UMAP's ``min_dist``: how tightly the codes of neighbours may pack.
    negative_samples : int
        Shuffled tails repelled per sampled edge.
    """

    def __init__(self, data, heads, tails, weights, seed=0, min_dist=0.1,
                 negative_samples=5):
        self.data = data
        device = data.device if isinstance(data, torch.Tensor) else torch.device("cpu")
        self.heads = torch.as_tensor(heads, device=device)
        self.tails = torch.as_tensor(tails, device=device)
        self.weights = torch.as_tensor(weights, device=device)
        self.generator = torch.Generator(device=device).manual_seed(int(seed))
        self.a, self.b = umap_curve(float(min_dist))
        self.negative_samples = int(negative_samples)

    def _rows(self, rows, device):
        """Rows of the data as a float32 tensor on ``device``."""
        if isinstance(self.data, torch.Tensor):
            return self.data[rows].to(device)
        part = self.data[rows.numpy()]
        part = part.toarray() if sp.issparse(part) else part
        return torch.from_numpy(np.asarray(part, dtype=np.float32)).to(device)

    def _similarity(self, squared_distance):
        return 1.0 / (1.0 + self.a * squared_distance.clamp_min(1e-12) ** self.b)

    def loss(self, encode, n_edges, device):
        """UMAP's cross-entropy on ``n_edges`` edges drawn by weight, with
        ``encode(rows)`` giving the codes on ``device``."""
        generator = self.generator
        edges = torch.multinomial(self.weights, n_edges, replacement=True,
                                  generator=generator)
        rows = torch.cat([self.heads[edges], self.tails[edges]])
        codes = encode(self._rows(rows, device))
        head, tail = codes[:n_edges], codes[n_edges:]
        attraction = -torch.log(self._similarity(((head - tail) ** 2).sum(-1)).clamp_min(_EPS))
        shuffled = (torch.randperm(n_edges * self.negative_samples, generator=generator,
                                   device=generator.device) % n_edges).to(device)
        pushed = head.repeat(self.negative_samples, 1)
        repulsion = -torch.log((1 - self._similarity(
            ((pushed - tail[shuffled]) ** 2).sum(-1))).clamp_min(_EPS))
        return attraction.mean() + self.negative_samples * repulsion.mean()
