"""UMAP's neighbourhood structure as a loss on codes (torch, numpy and
scikit-learn only).

Parametric UMAP (Sainburg, McInnes & Gentner, 2021): the k-nearest-neighbour
graph of the training rows, weighted by UMAP's fuzzy memberships, and
UMAP's cross-entropy between that graph and the codes' similarities
``1 / (1 + a d^(2b))``, minimised by UMAP's own stochastic optimisation on
free codes (a layout of the training rows, started from the encoder's
codes). Inside the training loop, next to the reconstruction loss, the
encoder's code of each row is drawn to its layout code and, by the same
cross-entropy, to the layout codes of the row's neighbours and away from
those of random rows (:class:`LayoutTarget`); new rows are placed among
fitted codes as UMAP's ``transform`` places them (:func:`place`).
"""

import math
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import torch
from scipy.optimize import curve_fit
from sklearn.neighbors import NearestNeighbors

from ._linear_start import principal_axes

__all__ = ["LayoutTarget", "Projection", "fuzzy_graph", "memberships", "nearest_neighbours",
           "neighbour_space", "optimize_layout", "place", "symmetric_graph", "umap_curve",
           "umap_layout"]

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


# Dense rows wider than this are searched for neighbours among their first
# _SEARCH_COMPONENTS principal components.
_SEARCH_WIDTH, _SEARCH_COMPONENTS = 64, 50


class Projection:
    """Rows projected on principal axes, ``(X - mean) @ components.T``,
    computed in float64 (rows read in chunks) and returned in X's float
    dtype: plain arrays, which ``skae.save`` keeps as they are."""

    def __init__(self, mean, components):
        self.mean, self.components = mean, components

    def transform(self, X):
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        out = np.empty((X.shape[0], len(self.components)), dtype=dtype)
        for start in range(0, X.shape[0], 4096):
            rows = np.asarray(X[start:start + 4096], dtype=np.float64)
            out[start:start + len(rows)] = (rows - self.mean) @ self.components.T
        return out


def neighbour_space(X, seed=0):
    """Where the neighbours of rows like X's are searched: None (X itself)
    for sparse or narrow X, else the :class:`Projection` of X on its first 50
    principal components. A cheaper search (UMAP's own neighbours are
    approximate too) that keeps the neighbourhoods: placing MNIST's 10,000
    test rows among a layout of 20,000 training rows searched 2.75 s exactly
    and 0.40 s in 50 components, with 5-NN accuracy 0.943 and 0.952,
    trustworthiness 0.948 and 0.949; and what ``transform_neighbors`` keeps
    of the training rows is 50 values per row."""
    if sp.issparse(X) or X.shape[1] <= _SEARCH_WIDTH or X.shape[0] <= _SEARCH_COMPONENTS:
        return None
    mean, axes = principal_axes(X, _SEARCH_COMPONENTS, seed)
    # Each axis signed as scikit-learn's PCA signs it (largest entry positive).
    axes = axes * np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(1)])[:, None]
    return Projection(mean, np.ascontiguousarray(axes))


def nearest_neighbours(X, n_neighbors=15):
    """Each row's ``n_neighbors - 1`` nearest other rows of X (an array or a
    sparse matrix; exact, by scikit-learn's ``NearestNeighbors``) and UMAP's
    fuzzy memberships of them (:func:`memberships`).

    Returns
    -------
    index : ndarray of int64, shape (n_rows, n_neighbors - 1)
    weights : ndarray of float64, same shape
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
    index = index[keep].reshape(n, k)
    return index, memberships(distances[keep].reshape(n, k), n_neighbors)


def symmetric_graph(index, weights):
    """UMAP's symmetric fuzzy graph of directed memberships ``weights`` of
    the rows ``index``: ``w + w^T - w * w^T``, as ``heads, tails`` (int64)
    and ``weights`` (float32) of its edges."""
    n, k = index.shape
    graph = sp.csr_matrix((weights.ravel(), (np.repeat(np.arange(n), k), index.ravel())),
                          shape=(n, n))
    graph = (graph + graph.T - graph.multiply(graph.T)).tocoo()
    return (graph.row.astype(np.int64), graph.col.astype(np.int64),
            graph.data.astype(np.float32))


def fuzzy_graph(X, n_neighbors=15):
    """UMAP's symmetric fuzzy graph of the rows of X: :func:`symmetric_graph`
    of :func:`nearest_neighbours`."""
    return symmetric_graph(*nearest_neighbours(X, n_neighbors))


def _attraction(diff, a, b):
    """UMAP's clipped gradient step pulling codes ``diff`` apart closer."""
    d2 = diff.square().sum(-1, keepdim=True).clamp_min_(1e-12)
    power = d2.pow(b)
    denominator = power.mul(a).add_(1).mul_(d2)
    return diff.mul(power.mul_(-2 * a * b).div_(denominator)).clamp_(-4, 4)


def _repulsion(diff, a, b):
    """UMAP's clipped gradient step pushing codes ``diff`` apart further
    (none between equal codes, where ``diff`` is 0)."""
    d2 = diff.square().sum(-1, keepdim=True)
    denominator = d2.pow(b).mul_(a).add_(1).mul_(d2.add_(1e-3))
    return diff.mul(denominator.reciprocal_().mul_(2 * b)).clamp_(-4, 4)


def optimize_layout(codes, heads, tails, weights, n_epochs, seed=0, min_dist=0.1,
                    negative_samples=5, learning_rate=1.0, chunk=None):
    """UMAP's stochastic optimisation of the cross-entropy between a fuzzy
    graph and codes, vectorised in torch.

    Each epoch draws every edge with chance ``weight / max(weight)`` (edges
    too weak to be drawn once in ``n_epochs`` are dropped, as UMAP does),
    pulls its ends together and pushes its head away from
    ``negative_samples`` random codes, with UMAP's gradients clipped to
    [-4, 4] and a learning rate falling linearly to 0. The drawn edges are
    applied in shuffled groups of ``chunk`` (UMAP applies them one by one;
    default: half the rows, between 2,048 and 16,384 edges). An epoch costs
    time in proportion to the edges, ``n_neighbors`` to twice that per row:
    the layout's time grows linearly with the rows.

    Parameters
    ----------
    codes : tensor of shape (n_rows, n_components)
        The starting codes, updated in place.
    heads, tails : tensor of int64
        The edges' ends, rows of ``codes`` (both move).
    weights : tensor of float32
        The edges' memberships.
    Returns
    -------
    codes : tensor
        ``codes``, optimised.
    """
    a, b = umap_curve(float(min_dist))
    device, (n, dim) = codes.device, codes.shape
    chunk = chunk or min(max(n // 2, 2048), 16_384)
    generator = torch.Generator(device=device).manual_seed(int(seed))
    keep = weights >= weights.max() / n_epochs
    heads, tails, weights = heads[keep], tails[keep], weights[keep]
    chance = weights / weights.max()
    for epoch in range(n_epochs):
        rate = learning_rate * (1 - epoch / n_epochs)
        drawn = torch.nonzero(torch.rand(len(chance), generator=generator, device=device)
                              < chance).squeeze(1)
        if len(drawn) > chunk:
            drawn = drawn[torch.randperm(len(drawn), generator=generator, device=device)]
        for part in drawn.split(chunk):
            i, j = heads.index_select(0, part), tails.index_select(0, part)
            head = codes.index_select(0, i)
            pull = _attraction(head - codes.index_select(0, j), a, b)
            others = torch.randint(n, (negative_samples * len(part),), generator=generator,
                                   device=device)
            push = _repulsion(head.repeat(negative_samples, 1) - codes.index_select(0, others),
                              a, b)
            pull = pull * rate  # (index_add_'s alpha is many times slower on the CPU)
            # Both ends' steps are computed before either moves.
            codes.index_add_(0, i, pull + push.view(negative_samples, -1, dim).sum(0) * rate)
            codes.index_add_(0, j, pull.neg_())
    return codes


def layout_epochs(n_rows):
    """UMAP's default number of epochs for ``n_rows`` rows."""
    return 500 if n_rows <= 10_000 else 200


def umap_layout(X, start, n_neighbors=15, seed=0, continued=False):
    """UMAP's layout of the rows of X (as searched for neighbours: see
    :func:`neighbour_space`), from the codes ``start`` (a float32 tensor,
    the encoder's codes of the rows).

    A first training rescales ``start`` into UMAP's box (each dimension
    spanning 0-10) and runs UMAP's schedule; a ``continued`` one (the codes
    are a trained model's) starts from them as they are, at a quarter of the
    learning rate. Returns the layout, centred, as a float32 tensor, and
    each row's nearest neighbours and memberships (:func:`nearest_neighbours`)
    as tensors.
    """
    index, memberships_ = nearest_neighbours(X, n_neighbors)
    heads, tails, weights = (torch.as_tensor(v, device=start.device)
                             for v in symmetric_graph(index, memberships_))
    codes = start.detach().clone()
    if not continued:
        low, high = codes.min(dim=0).values, codes.max(dim=0).values
        codes = 10 * (codes - low) / (high - low).clamp_min(1e-12)
    optimize_layout(codes, heads, tails, weights, layout_epochs(len(codes)), seed=seed,
                    learning_rate=0.25 if continued else 1.0)
    neighbours = (torch.as_tensor(index, device=start.device),
                  torch.as_tensor(memberships_, dtype=torch.float32, device=start.device))
    return codes - codes.mean(dim=0), neighbours


_MODULUS = 2**31 - 1  # the Lehmer generator's (MINSTD)
_MASK = 2**32 - 1


def _row_uniforms(keys, epoch, n):
    """``n`` uniforms in [0, 1) per row, a function of the row's key, the
    epoch and the place only (a row's draws do not depend on the other rows
    of a call): a 32-bit integer hash (products stay below 2**63, and masks
    cost less than a modulus)."""
    x = (keys[:, None] + (epoch * 1_000_003 + torch.arange(1, n + 1)) * 16_807) & _MASK
    for _ in range(2):
        x ^= x >> 16
        x = (x * 0x45D9F3B) & _MASK
    x ^= x >> 16
    return x.to(torch.float64) / 2**32


def place(codes, index, distances, n_epochs=30, seed=0, negative_samples=5, min_dist=0.1,
          block=16_384):
    """UMAP's placement of new rows among fitted ``codes`` (its
    ``transform``).

    Each row starts at the membership-weighted mean of the codes of its
    nearest fitted rows (``index``, at ``distances``), then moves among the
    fixed codes for ``n_epochs`` of UMAP's optimisation at a quarter of its
    learning rate: each epoch draws each of its edges with chance its
    membership, and ``negative_samples`` fitted codes to push away from per
    drawn edge. The draws of a row are a function of the row's neighbours,
    the epoch and ``seed`` alone, so that a row's code does not depend on
    the other rows it comes with. Returns float32 codes of shape
    (n_new, n_components).
    """
    a, b = umap_curve(float(min_dist))
    # float64: a row's code then does not depend, to float32's precision,
    # on the rows its distances were computed with.
    anchors = torch.as_tensor(np.asarray(codes, dtype=np.float64))
    k = index.shape[1]
    placed = []
    for rows in range(0, len(index), block):
        near = torch.as_tensor(index[rows:rows + block], dtype=torch.int64)
        weights = torch.as_tensor(memberships(distances[rows:rows + block], k + 1))
        around = anchors[near]
        z = (around * weights[..., None]).sum(1) / weights.sum(1, keepdim=True)
        keys = torch.full((len(near),), int(seed) % _MODULUS, dtype=torch.int64)
        for j in range(k):
            keys = (keys * 31 + near[:, j]) % _MODULUS
        for epoch in range(n_epochs):
            rate = 0.25 * (1 - epoch / n_epochs)
            draws = _row_uniforms(keys, epoch, k * (1 + negative_samples))
            # The drawn edges (row, neighbour), in row order, and for each
            # its negatives: the work is done for these alone.
            row, slot = torch.nonzero(draws[:, :k] < weights, as_tuple=True)
            step = torch.zeros_like(z)
            step.index_add_(0, row, _attraction(z[row] - around[row, slot], a, b))
            negatives = draws[:, k:].view(len(z), negative_samples, k)[row, :, slot]
            others = anchors[(negatives * len(anchors)).long().clamp_max(len(anchors) - 1)]
            step.index_add_(0, row, _repulsion(z[row, None] - others, a, b).sum(1))
            z = z + rate * step
        placed.append(z)
    if not placed:
        return np.zeros((0, anchors.shape[1]), np.float32)
    return torch.cat(placed).numpy().astype(np.float32)


class LayoutTarget:
    """The structure term of one training, on the codes of a batch's rows.

    UMAP's cross-entropy of each code against the fixed layout codes of the
    row's nearest neighbours (attraction, weighted by their memberships) and
    of ``negative_samples`` random rows (repulsion): parametric UMAP, with
    the other end of every edge at its place in the layout, as UMAP's
    ``transform`` places a new row; plus the squared distance of the code to
    the row's own layout code. It reads the codes the training step has
    already computed: no extra pass through the encoder.

    Parameters
    ----------
    layout : tensor of shape (n_samples, latent_dim)
        The layout of the training rows (:func:`umap_layout`), on the device
        the training runs on.
    neighbours : tuple of tensors
        Each row's nearest neighbours and their memberships, of shape
        (n_samples, k), on the same device.
    seed : int
        Seed of the negatives drawn at each step.
    min_dist, negative_samples : float, int
        As in :func:`optimize_layout`.
    """

    def __init__(self, layout, neighbours, seed=0, min_dist=0.1, negative_samples=5):
        self.layout = layout
        self.index, weights = neighbours
        self.weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-12)
        self.generator = torch.Generator(device=layout.device).manual_seed(int(seed))
        self.a, self.b = umap_curve(float(min_dist))
        self.negative_samples = int(negative_samples)

    def _similarity(self, squared_distance):
        return 1.0 / (1.0 + self.a * squared_distance.clamp_min(1e-12) ** self.b)

    def fit(self, codes, rows):
        """Mean squared distance of ``codes`` to the layout codes of ``rows``."""
        return ((codes - self.layout[rows]) ** 2).sum(-1).mean()

    def loss(self, codes, rows):
        """The term on ``codes``, the codes of training rows ``rows``."""
        k = self.index.shape[1]
        others = torch.randint(len(self.layout), (len(rows), self.negative_samples),
                               generator=self.generator, device=self.generator.device)
        # The neighbours' and the negatives' layout codes, compared at once.
        ends = self.layout[torch.cat([self.index[rows], others], dim=1)]
        similarity = self._similarity(((codes[:, None] - ends) ** 2).sum(-1))
        attraction = -(self.weights[rows] * torch.log(similarity[:, :k].clamp_min(_EPS))).sum(1)
        repulsion = -torch.log((1 - similarity[:, k:]).clamp_min(_EPS)).sum(1)
        return self.fit(codes, rows) + attraction.mean() + repulsion.mean()
