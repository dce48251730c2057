"""The internal space a network trains in, and its PCA starting point.

Raw data has columns in thousands next to columns in thousandths. The
networks train on ``(x - mean) / s``, with one scale ``s`` for all columns
(the root mean column variance): the data is well conditioned for the
optimizer, and the squared error still weighs the columns as the user's
squared error does, which is what PCA minimizes. A linear path through the
network starts at the principal axes, so the untrained network reconstructs
exactly as ``PCA(latent_dim)`` does (the VAE starts at probabilistic PCA).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.utils.extmath import randomized_svd

from ._batches import dense_rows

__all__ = ["MIN_VARIANCE", "LinearStart", "linear_start", "principal_axes"]

#: Floor of a Gaussian decoder's variance, relative to the mean column
#: variance: far below any residual that float32 training resolves, yet a
#: perfect reconstruction cannot drive the likelihood to infinity.
MIN_VARIANCE = 1e-6

# Rows per chunk of the moment computations, and values at most: bounded
# memory on large or wide input.
_CHUNK_ROWS = 4096
_CHUNK_VALUES = 2**22
# Up to this many features the covariance matrix is formed and diagonalised;
# beyond it a randomized SVD of a row sample gives the leading axes.
_MAX_COVARIANCE_FEATURES = 4096
_MAX_SAMPLE_VALUES = 50_000_000


@dataclass
class LinearStart:
    """Internal space and principal axes: see :func:`linear_start`."""

    center: np.ndarray
    scale: float
    axes: np.ndarray = None
    sd: np.ndarray = None
    noise_variance: float = 0.0
    internal_variance: float = 1.0
    #: Each column's scale where they differ: a table's (the common scale for
    #: numeric columns, 1 for one-hot and boolean ones), or each column's
    #: own for data with holes.
    column_scale: np.ndarray = None
    #: Of rows with holes: the linear decoder starts at zero (see pca_maps).
    holes: bool = False

    @property
    def scales(self):
        """The scale of each column of the internal space."""
        return self.scale if self.column_scale is None else self.column_scale

    @property
    def linear_path(self):
        return self.axes is not None

    def pca_maps(self, latent_dim):
        """Arguments of ``AutoencoderModule.set_linear_start``: PCA, whose
        codes are the principal scores in the data's units (as
        ``PCA.transform`` gives them) and whose decoder projects back on the
        axes. Of rows with holes, see :meth:`_imputing_maps`."""
        kwargs = {"center": self.center, "scale": self.scales}
        if not self.linear_path:
            return kwargs
        if self.holes:
            return {**kwargs, **self._imputing_maps(latent_dim)}
        ones = np.ones(self._live().sum())
        encoder, decoder = self._place(latent_dim, ones, ones)
        return {**kwargs, "encoder_weight": encoder, "decoder_weight": decoder,
                "code_scale": self.scale}

    def _imputing_maps(self, latent_dim):
        """The linear start of rows with holes, whose encoder reads each
        row's values and its mask of observed ones (``2 * n_features``
        inputs): the decoder at zero, so the untrained network imputes the
        column means, and the encoder the identity on its first inputs
        where the code holds all the values (the linear path, beside the
        code, is at most as wide as its inputs; it holds the values and as
        much of the mask as fits, and the decoder learns a linear map of
        them, as a regression imputer does), else the leading principal
        axes of the values. The identity imputed better than the axes of a
        wide code (breast_cancer and wine, eight masks each; the sparse
        ratings of ``skae.datasets.synthetic_ratings``): Adam's steps, even
        per coordinate, grow the small principal directions as fast as the
        large ones. On MNIST's 784 columns and a code of 256, the axes
        imputed better than the old direct map of the inputs."""
        p = len(self.center)
        if _starts_at_identity(latent_dim, p):  # the values, and as much of the mask as fits
            encoder = np.eye(2 * p)[:latent_dim]
        else:
            encoder = self._place(latent_dim, np.ones(self._live().sum()),
                                  np.zeros(self._live().sum()))[0]
        return {"encoder_weight": encoder}  # the decoder stays at zero
    def ppca_maps(self, latent_dim):
        """Arguments of ``VAEModule.set_linear_start``: the maximum-likelihood
        probabilistic PCA (Tipping & Bishop, 1999) as a linear Gaussian VAE,
        its exact posterior mean and log-variance, and its noise variance.
        Codes stay in the prior's units."""
        kwargs = {"center": self.center, "scale": self.scales}
        if not self.linear_path:
            return kwargs
        eigval = self.sd[self._live()] ** 2
        noise = max(self.noise_variance, MIN_VARIANCE * self.internal_variance)
        weight = np.sqrt(np.clip(eigval - noise, 0, None))
        encoder, decoder = self._place(latent_dim, weight / eigval, weight)
        logvar = np.zeros(latent_dim)
        logvar[:len(self.sd)][self._live()] = np.log(np.minimum(noise / eigval, 1.0))
        return {**kwargs, "encoder_weight": encoder, "decoder_weight": decoder,
                "code_scale": 1.0, "logvar": logvar, "noise_variance": noise}

    def _place(self, latent_dim, encoder_factor, decoder_factor):
        """Encoder (latent_dim, n_features) and decoder (n_features, latent_dim)
        weights: each live axis times its factor, zeros elsewhere (past the
        data's rank or the number of axes)."""
        p, k, live = len(self.center), len(self.sd), self._live()
        encoder, decoder = np.zeros((latent_dim, p)), np.zeros((p, latent_dim))
        encoder[:k][live] = self.axes[live] * encoder_factor[:, None]
        decoder[:, :k][:, live] = (self.axes[live] * decoder_factor[:, None]).T
        return encoder, decoder

    def _live(self):
        """Axes along which the data varies (rank-deficient data has fewer)."""
        return self.sd > 1e-6 * max(self.sd.max(initial=0.0), 1e-300)


def _starts_at_identity(latent_dim, n_features):
    """Whether the linear start of rows with holes is the identity on the
    encoder's inputs (the code holds all the values), not principal axes."""
    return latent_dim >= n_features


def _moments(X, scatter=True, holes=False, dtype=np.float32):
    """Column means, column variances and the centred scatter matrix (None
    when not asked for or too wide). With ``holes``, over each column's
    observed (not NaN) values, and the scatter of the centred rows with
    zeros at the holes. Products of centred chunks in ``dtype`` (float32:
    twice as fast), sums in float64."""
    n, p = X.shape
    wide = not scatter or p > _MAX_COVARIANCE_FEATURES
    if sp.issparse(X) and wide and not holes:
        return _sparse_moments(X)
    step = max(1, min(_CHUNK_ROWS, _CHUNK_VALUES // max(p, 1)))
    mean, count = np.zeros(p), np.full(p, n)
    if holes:
        count = np.zeros(p)
        for start in range(0, n, step):
            chunk = dense_rows(X, start, start + step)
            count += np.sum(~np.isnan(chunk), axis=0)
            mean += np.nansum(chunk, axis=0, dtype=np.float64)
    else:
        for start in range(0, n, step):
            mean += np.asarray(X[start:start + step].sum(axis=0, dtype=np.float64)).ravel()
    mean /= np.maximum(count, 1)
    scatter = None if wide else np.zeros((p, p))
    sq = np.zeros(p)
    mean_ = mean.astype(dtype)
    for start in range(0, n, step):
        chunk = dense_rows(X, start, start + step, dtype) - mean_
        if holes:
            chunk = np.nan_to_num(chunk, nan=0.0)
        sq += np.einsum("ij,ij->j", chunk, chunk, dtype=np.float64)
        if not wide:
            scatter += chunk.T @ chunk
    return mean, sq / np.maximum(count - 1, 1), scatter


def _sparse_moments(X):
    """Column means and variances of a sparse matrix, from sparse products
    (narrow ones are densified in chunks, as dense data is read, so that a
    sparse fit takes the same steps as a dense one)."""
    n, p = X.shape
    mean = np.asarray(X.sum(axis=0)).ravel() / n
    squares = np.asarray(X.multiply(X).sum(axis=0)).ravel()
    return mean, np.clip(squares - n * mean**2, 0, None) / max(n - 1, 1), None


def _sparse_axes(X, mean, scale, latent_dim, seed):
    """Leading axes of a sparse matrix, centred implicitly (ARPACK on
    products with X: it is never densified)."""
    n, p = X.shape
    k = min(latent_dim, min(n, p) - 1)
    if k < 1:
        return np.zeros((0, p)), np.zeros(0)
    centred = LinearOperator(
        (n, p), dtype=np.float64,
        matvec=lambda v: (X @ v.ravel() - mean @ v.ravel()) / scale,
        rmatvec=lambda u: (X.T @ u.ravel() - mean * np.sum(u)) / scale)
    rng = np.random.default_rng(seed)
    _, sv, vt = svds(centred, k=k, v0=rng.uniform(-1, 1, min(n, p)))
    order = np.argsort(sv)[::-1]
    return vt[order], sv[order] / np.sqrt(max(n - 1, 1))


def _leading_axes(X, mean, scale, scatter, latent_dim, seed, holes=False):
    """Leading principal axes and standard deviations in the internal space
    (with ``holes``, of the rows with zeros at their holes)."""
    n, p = X.shape
    if sp.issparse(X) and scatter is None and not holes:
        return _sparse_axes(X, mean, scale, latent_dim, seed)
    if scatter is not None:
        eigval, eigvec = np.linalg.eigh(scatter / (max(n - 1, 1) * np.outer(scale, scale)))
        order = np.argsort(eigval)[::-1][:latent_dim]
        return eigvec[:, order].T, np.sqrt(np.clip(eigval[order], 0, None))
    rows = min(n, max(_MAX_SAMPLE_VALUES // p, 2 * latent_dim))
    index = np.sort(np.random.default_rng(seed).choice(n, rows, replace=False))
    rows = X[index].toarray() if sp.issparse(X) else X[index]
    sample = (np.asarray(rows, dtype=np.float32) - mean.astype(np.float32)) / scale
    if holes:
        sample = np.nan_to_num(sample, nan=0.0)
    _, sv, vt = randomized_svd(sample, min(latent_dim, min(sample.shape)), random_state=seed)
    return vt, sv / np.sqrt(max(rows - 1, 1))


def principal_axes(X, n_axes, seed=0):
    """Column means and the ``n_axes`` leading principal axes of the rows
    of a dense X, read in chunks as :func:`linear_start` reads them, with
    products in float64: scikit-learn's ``PCA`` axes to about 1e-10 (up to
    sign)."""
    mean, _, scatter = _moments(X, dtype=np.float64)
    return mean, _leading_axes(X, mean, 1.0, scatter, n_axes, seed)[0]


def linear_start(X, latent_dim, *, internal, axes, seed=0, numeric=None, holes=False):
    """Internal space of ``X`` and, with ``axes``, its principal axes.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Training data (read in chunks; never copied or densified whole).
    latent_dim : int
        Width of the code.
    internal : bool
        Centre and scale the data. False keeps the data as it is (for
        losses such as binary cross-entropy, whose targets must stay in
        [0, 1]).
    axes : bool
        Find the principal axes too (for a network's linear path).
    seed : int
        Seed of the row sample for very wide data.
    numeric : ndarray of bool, optional
        Which columns are numbers (default: all). The others, a table's
        one-hot and boolean columns, keep their 0/1 values in the internal
        space (centre 0, scale 1; the principal axes are still of the
        centred columns), and the common scale is the numeric columns'.
    holes : bool
        X has holes (NaN, an imputer's data): each column is centred and
        scaled by its own observed values' mean and standard deviation (a
        column's error then weighs the same in any units), and the axes are
        those of the standardized rows with zeros at their holes (the
        column means filled in), so the linear start imputes by them.

    Returns
    -------
    start : LinearStart
        ``center`` and ``scale`` of the internal space ``(x - center) /
        scale`` (``column_scale``, each column's, where they differ); with
        ``axes``, ``axes`` (up to latent_dim, n_features), the leading
        principal axes in the internal space, ``sd`` their standard
        deviations and ``noise_variance`` the mean variance of the other
        directions; ``internal_variance``, the mean column variance in the
        internal space.
    """
    n, p = X.shape
    if sp.issparse(X):  # sparse products in float64, from one copy
        X = X.astype(np.float64)
    if not internal:
        var = _moments(X, scatter=False)[1] if n > 1 else np.zeros(p)
        return LinearStart(np.zeros(p), 1.0, internal_variance=float(np.mean(var)))
    # Rows with holes and a code as wide start from the identity
    # (LinearStart._imputing_maps): no axes to find.
    identity = holes and _starts_at_identity(latent_dim, p)
    mean, var, scatter = _moments(X, scatter=axes and not identity, holes=holes)
    numeric = np.ones(p, bool) if numeric is None else np.asarray(numeric, bool)
    if holes:
        scale = 1.0
        sd = np.sqrt(var)
        scales = np.where(numeric & (sd > 0) & np.isfinite(sd), sd, 1.0)
    else:
        scale = float(np.sqrt(np.mean(var[numeric]))) if numeric.any() else 1.0
        if not np.isfinite(scale) or scale <= 0:
            scale = 1.0
        scales = scale if numeric.all() else np.where(numeric, scale, 1.0)
    center = np.where(numeric, mean, 0.0)
    column_scale = None if np.isscalar(scales) else scales
    total = float(np.sum(var / np.square(scales)))
    if not axes:
        return LinearStart(center, scale, internal_variance=total / p,
                           column_scale=column_scale)
    if identity:
        axes, sd = np.zeros((0, p)), np.zeros(0)
    else:
        axes, sd = _leading_axes(X, mean, scales, scatter, latent_dim, seed, holes)
    rest = p - len(sd)
    noise = max(total - float(np.sum(sd**2)), 0.0) / rest if rest > 0 else 0.0
    return LinearStart(center, scale, axes, sd, noise_variance=noise,
                       internal_variance=total / p, column_scale=column_scale, holes=holes)
