"""What a fitted transformer computes: codes, reconstructions, scores and
per-feature errors, batch by batch in bounded memory."""

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_is_fitted

from ._batches import map_batches
from ._checks import check_values, validate_X
from ._structure import neighbour_space, place

# Rows per batch at inference time: large enough to amortise the Python
# overhead, small enough to keep memory bounded on big inputs (and fewer for
# wide rows, such as a sparse matrix's densified batches: 16 MB of float32).
_INFERENCE_BATCH_SIZE = 4096
_INFERENCE_BATCH_VALUES = 2**22
# Epochs of UMAP's placement of new rows among the training codes
# (``transform_neighbors`` with ``structure="umap"``). UMAP takes 30 for
# calls of more than 10,000 rows, 100 for fewer; a row's code here must not
# depend on the call. MNIST 20,000/10,000: trustworthiness 0.949 at 30
# epochs, 0.952 at 60, 0.953 at 100 (UMAP's own: 0.955).
_PLACEMENT_EPOCHS = 60


def inference_batch_size(n_features):
    """Rows per inference batch for rows of ``n_features`` values."""
    return max(1, min(_INFERENCE_BATCH_SIZE, _INFERENCE_BATCH_VALUES // max(n_features, 1)))


def predict_entries(module, batch):
    """Every entry of ``batch`` predicted by ``module``, in the data's units
    (rows with or without holes; a softmax's probabilities)."""
    return module.link(module(batch)[0]) * module.scale + module.center


def fold_in_entries(module, batch, mean, column_bias, damping):
    """Every entry of raw rating rows ``batch`` (NaN where unrated) predicted,
    in ratings, each row folded in as a new user's ratings are: less the
    baseline of its columns (``mean`` + ``column_bias``) and its own bias,
    damped as if it had ``damping`` more ratings at the mean."""
    observed = ~torch.isnan(batch)
    residual = torch.where(observed, batch - mean - column_bias, 0.0)
    bias = residual.sum(-1, keepdim=True) / (observed.sum(-1, keepdim=True) + damping)
    row = torch.where(observed, residual - bias, float("nan"))
    return predict_entries(module, row) + mean + column_bias + bias


def _encode(module, batch):
    return module.encode(batch)


def _feature_errors(module, batch):
    return module.feature_errors(batch)


def _feature_repairs(module, batch):
    return module.feature_repairs(batch)


class _InferenceMixin(TransformerMixin):
    """Inference methods of :class:`~skae._base._BaseAutoencoder` (the
    fitted skorch net is ``net_``). A ``TransformerMixin``, so that
    scikit-learn wraps ``transform`` for ``set_output``."""

    def _check_values(self, X):
        """Checks of an inference batch, against the fitted model's loss
        (parameters set after ``fit`` change nothing until the next ``fit``)."""
        check_values(X, self.net_.loss, type(self).__name__)

    def _map(self, fn, X, check=None):
        return map_batches(self.net_, fn, X, X.dtype.type, inference_batch_size(X.shape[1]),
                           check)

    def _map_rows(self, fn, X):
        """``fn(module, batch)`` over validated rows of X, checked batch by
        batch; a string ``fn`` names a method of the fitted net."""
        check_is_fitted(self)
        X = validate_X(self, X, reset=False)
        fn = getattr(self.net_, fn) if isinstance(fn, str) else fn
        return self._map(fn, X, self._check_values)

    def transform(self, X):
        """Encode X: its code in the latent space.

        With ``transform_neighbors=k``, a row is instead placed among the
        codes of its ``k`` nearest training rows: as UMAP places new rows,
        among ``embedding_``, with ``structure="umap"``; at the
        membership-weighted mean of their codes otherwise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            Codes, in X's floating dtype.
        """
        check_is_fitted(self)
        X = validate_X(self, X, reset=False)
        codes = self._map(_encode, X, self._check_values)
        if getattr(self, "_neighbours", None) is None:
            return codes
        space = self._neighbour_space
        distances, index = self._neighbours.kneighbors(X if space is None else space.transform(X))
        # Among a UMAP layout (structure="umap") as UMAP places rows; else at
        # the mean of the neighbours' codes.
        epochs = 0 if getattr(self, "embedding_", None) is None else _PLACEMENT_EPOCHS
        return place(self._neighbour_codes, index, distances, n_epochs=epochs).astype(codes.dtype)

    def _set_neighbours(self, X, space=None):
        """Keep what ``transform_neighbors`` needs of the training rows X
        (validated): their search points (X itself, or its projection
        ``space``, a :func:`~skae._structure.neighbour_space`; None: found
        here), their codes and a neighbour index; forget it all when
        ``transform_neighbors`` is None. The rows themselves are not kept."""
        self._neighbours = self._neighbour_codes = None
        self._neighbour_space = self._neighbour_points = None
        if not getattr(self, "transform_neighbors", None) or X is None:
            return
        layout = getattr(self, "embedding_", None)
        codes = self._map(_encode, X) if layout is None else layout
        space = neighbour_space(X) if space is None else space
        self._keep_neighbours(X if space is None else space.transform(X), codes, space)

    def _keep_neighbours(self, points, codes, space):
        """Keep the search ``points`` of the training rows (in ``space``, a
        :class:`~skae._structure.Projection`, or None), their ``codes``, and
        an index of the points (also what ``skae.load`` restores)."""
        self._neighbour_points, self._neighbour_codes = points, codes
        self._neighbour_space = space
        self._neighbours = NearestNeighbors(
            n_neighbors=min(self.transform_neighbors, points.shape[0])).fit(points)

    def inverse_transform(self, X):
        """Decode codes back to the data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features) or DataFrame
            Reconstructions, in the codes' floating dtype. For a table with
            boolean or categorical columns, the table: a DataFrame of the
            fitted columns' names, dtypes and categories (when fitted on a
            DataFrame, or with ``set_output(transform="pandas")``), else an
            object array; booleans above 0.5, the most probable category.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__} decodes "
                f"codes of {self._n_features_out} features (latent_dim)."
            )
        values = self._map(lambda module, batch: module.decode(batch), Z)
        schema = getattr(self, "_schema", None)
        if schema is None:
            return values
        pandas = _get_output_config("transform", self)["dense"] == "pandas"
        return schema.decode(values, frame=schema.frame or ("pandas" if pandas else None))

    def score_samples(self, X):
        """How typical each sample is of the training data (higher is more typical).

        :class:`AutoencoderTransformer`: minus the reconstruction error,
        averaged over features (minus the mean of :meth:`feature_errors`).
        :class:`VAETransformer`: the evidence lower bound (ELBO) in nats, a
        deterministic estimate over a fixed set of posterior draws, so a
        sample's score does not depend on the batch it comes in;
        ``-score_samples(X)`` bounds its negative log-likelihood from above.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-sample scores, in X's floating dtype.
        """
        return self._map_rows("score_batch", X)

    def feature_errors(self, X, method="reconstruction"):
        """Per-feature reconstruction errors: which features make a sample unusual.

        Squared error (``loss="mse"``, in squared units of the data) or
        binary cross-entropy (``loss="bce"``) of each feature's
        reconstruction from the code (the posterior mean for a VAE). For a
        table with boolean or categorical columns, one error per column: the
        squared error of a numeric column, the cross-entropy (nats) of a
        boolean or categorical one.

        An unusual value also pulls the code, and with it the
        reconstruction of the other features, so its error spreads.
        ``method="repair"`` asks instead which single feature, changed,
        makes the sample most ordinary: for each feature, how much the
        sample's total error (the sum over features) falls at the feature's
        best repair. A category or boolean is tried at each of its values; a
        number is hidden from the encoder (set to its training mean),
        predicted from the others and set to the prediction. It costs two
        passes through the network per number and one per value of a
        category or boolean: use it on the samples to explain. On the
        planted anomalies of ``benchmarks/bench_tables.py`` it names the
        planted column more often than the reconstruction errors do (the
        Tables page of the user guide gives the figures).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples whose reconstruction to examine.

        method : {"reconstruction", "repair"}, default="reconstruction"
            The reconstruction error of each feature, or the fall of the
            sample's total error at that feature's best repair.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            Per-feature errors (or falls of the total error, which may be
            negative), in X's floating dtype; the largest points at what is
            unusual.
        """
        methods = {"reconstruction": _feature_errors, "repair": _feature_repairs}
        if method not in methods:
            raise ValueError(f"method must be one of {sorted(methods)}; got {method!r}.")
        return self._map_rows(methods[method], X)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over X (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        """Width of the code (raises AttributeError before fit)."""
        return self.net_.module__latent_dim
