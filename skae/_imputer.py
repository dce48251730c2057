"""AutoencoderImputer: missing values filled by a denoising autoencoder."""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import TransformerMixin
from sklearn.impute import MissingIndicator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._base import _BaseAutoencoder
from ._batches import map_batches
from ._checks import extend_init, is_nan, observed_columns, validate_holes
from ._docstrings import fill_docstring
from ._inference import inference_batch_size
from ._loss import get_loss
from ._modules import AutoencoderModule
from ._net import AutoencoderNet
from ._onnx_graphs import ImputerOnnx


@fill_docstring
class AutoencoderImputer(TransformerMixin, ImputerOnnx, _BaseAutoencoder):
    """Imputation of missing values by a denoising autoencoder.

    Each row is read with its holes: the network sees the observed values
    (centred and scaled per column) and the mask of which are observed,
    and predicts every entry; :meth:`transform` replaces the missing entries
    by the predictions and returns the observed ones unchanged. Training
    follows MIDAS (Lall & Robinson, 2022): every step hides a further
    ``noise`` fraction of the observed entries, and the loss is the squared
    error on the observed entries only, so the network learns to fill holes
    from what it sees. It is the network of :class:`AutoencoderTransformer`,
    trained by the same policy, reading the mask beside the values. Its
    linear path runs beside the code: a linear map of the values and the
    mask (the regression a linear imputer fits), whose decoder starts at
    zero, as the nonlinear decoder's last layer does, so the untrained
    network imputes the column means. Early stopping monitors the error on
    observed entries held out of training (``validation_fraction`` of them)
    and keeps the best epoch, the mean-imputing start included, so the
    held-out entries are never imputed worse than by the mean, however the
    columns are scaled: no scaler is needed.

    A single pass suffices at :meth:`transform`: feeding the filled values
    back in (iterative refinement) did not lower the error in our
    measurements (``benchmarks/bench_imputation.py``), since the network
    already sees which entries are missing.

    ``encoder=`` and ``decoder=`` take your own torch networks: your encoder
    is built as ``encoder(2 * n_features_in, latent_dim)`` and reads each
    row's values (zero at the holes) followed by the mask of observed ones;
    it outputs the code (``width`` = ``latent_dim``).

    Parameters
    ----------
    missing_values : int, float or np.nan, default=np.nan
        The placeholder of missing values; every occurrence is imputed. A
        sparse matrix's holes are its stored NaN values (its implicit zeros
        are observed zeros).

    {network}
    loss : {"mse", "bce"}, default="mse"
        The loss on the observed entries: the squared error in the internal
        space (each column centred and scaled by its own deviation), or
        binary cross-entropy for data in [0, 1].

    {training}
    noise : float, default=0.25
        Fraction of the observed entries hidden at each training step (in
        [0, 1); a categorical column's one-hot group is hidden whole).

    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator`'s columns to the
        output (features that had missing values during fit).

    keep_empty_features : bool, default=False
        Keep the columns that have no observed value during ``fit`` (imputed
        as 0) instead of dropping them, as scikit-learn's imputers do.

    {table}
    Attributes
    ----------
    {trained}
    validation_loss_curve_ : ndarray of shape (n_epochs,) or None
        Mean squared imputation error of the held-out entries, in the
        internal space (1 is the mean imputation's error, about), per epoch;
        None without early stopping.

    indicator_ : MissingIndicator or None
        The indicator of ``add_indicator``.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.impute.KNNImputer : Imputation from the nearest rows.
    sklearn.impute.IterativeImputer : Imputation by chained regressions.
    AutoencoderTransformer : Its codes need complete data: impute first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderImputer
    >>> X = load_digits().data / 16
    >>> X_missing = X.copy()
    >>> X_missing[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    >>> imputer = AutoencoderImputer(max_epochs=5, random_state=0)
    >>> X_filled = imputer.fit_transform(X_missing)
    >>> bool(np.isnan(X_filled).any())
    False
    """

    _imputes = True

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        "missing_values": [Real],
        "noise": [Interval(Real, 0, 1, closed="left")],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
    }

    __init__ = extend_init(
        _BaseAutoencoder.__init__, positional="missing_values",
        defaults=dict(latent_dim=256, hidden_layer_sizes=(512,), max_epochs=300,
                      lr_schedule="constant", patience=30),
        missing_values=np.nan, noise=0.25, add_indicator=False, keep_empty_features=False)

    # ------------------------------------------------------------- the hooks
    def _build_net(self, module_kwargs, policy):
        return AutoencoderNet(AutoencoderModule, **module_kwargs, noise=self.noise,
                              corruption="masking", **policy)

    def _training_rows(self, X, reset):
        """The kept columns of X with NaN at the missing entries; at fit,
        which columns are kept and the indicator."""
        if reset:
            self._check_table_loss()
        X, values = validate_holes(self, X, reset, self.missing_values,
                                   get_loss(self.loss) if reset else self.net_.loss)
        if reset:
            observed = observed_columns(values)
            schema = self._schema
            self._valid_mask = observed if schema is None else observed[schema.starts[:-1]]
            if not self._valid_mask.all() and not self.keep_empty_features:
                warnings.warn("Skipping features without any observed values: "
                              f"{np.flatnonzero(~self._valid_mask).tolist()}. At least one "
                              "observed value is needed for imputation; set "
                              "keep_empty_features=True to keep them (as zeros).",
                              UserWarning, stacklevel=5)
            self.indicator_ = None
            if self.add_indicator:  # a table's indicator reads its missing entries
                self.indicator_ = MissingIndicator(
                    missing_values=1.0 if schema is not None else self.missing_values,
                    error_on_new=False).fit(self._indicated(X, values))
        return self._kept_values(values)

    def _indicated(self, X, values):
        """What the indicator reads: X, or a table's missing entries (1)."""
        if self._schema is None:
            return X
        return np.isnan(values[:, self._schema.starts[:-1]]).astype(float)

    def _kept(self):
        """Which columns go through the network."""
        return np.ones_like(self._valid_mask) if self.keep_empty_features else self._valid_mask

    def _kept_values(self, values):
        """The encoded columns of ``values`` that go through the network."""
        kept = self._kept()
        if kept.all():
            return values
        schema = self._schema
        return values[:, kept if schema is None else schema.expand(kept)]

    def _trained_schema(self):
        """A table's schema of the kept columns (None for numbers alone)."""
        schema = getattr(self, "_schema", None)
        return None if schema is None else schema.subset(self._kept())

    # ------------------------------------------------------------- inference
    def transform(self, X):
        """Impute all missing values in X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing values.

        Returns
        -------
        X_imputed : ndarray, sparse matrix or DataFrame of shape (n_samples, n_features_out)
            X filled (columns without observed values at fit dropped unless
            ``keep_empty_features``, then the indicator's), in X's dtype; a
            sparse matrix as one, its stored NaN filled; a table with
            boolean or categorical columns as a table (a DataFrame when
            fitted on one), holes in categories at the most probable.
        """
        X, values, filled = self._fill(X)
        schema = self._trained_schema()
        if schema is None:
            if self.add_indicator:
                indicator = self.indicator_.transform(X)
                filled = sp.hstack([filled, indicator], format="csr", dtype=X.dtype) \
                    if sp.issparse(filled) else np.hstack([filled, indicator.astype(X.dtype)])
            return filled
        table = schema.decode(filled, frame="pandas")
        if self.add_indicator:
            indicator = self.indicator_.transform(self._indicated(X, values))
            table[list(self.get_feature_names_out()[-indicator.shape[1]:])] = indicator
        return schema.as_fitted(table)

    def inverse_transform(self, X):
        """The imputed entries back to ``missing_values``, as scikit-learn's
        imputers do: which entries were imputed is read from the
        indicator's columns, so ``add_indicator=True`` is needed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out)
            Output of :meth:`transform` (the imputed data, then the
            indicator's columns).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in)
            The data with ``missing_values`` where :meth:`transform` imputed
            (columns dropped at fit for having no observed value come back
            all missing).
        """
        check_is_fitted(self)
        if not self.add_indicator:
            raise ValueError("inverse_transform works only when AutoencoderImputer was "
                             "instantiated with add_indicator=True: the indicator's "
                             "columns say which entries were imputed; got "
                             "add_indicator=False.")
        if self._schema is not None:
            raise ValueError("inverse_transform takes numbers; the imputer was fitted on a "
                             "table with boolean or categorical columns, whose holes "
                             "are the indicator's columns of its output.")
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=float)
        width = len(self.get_feature_names_out())
        if X.ndim != 2 or X.shape[1] != width:
            raise ValueError(f"X has {X.shape[1] if X.ndim == 2 else X.shape} features, but "
                             f"{type(self).__name__}.transform outputs {width}.")
        n_kept = int(self._kept().sum())
        out = np.full((len(X), self.n_features_in_), float(self.missing_values))
        out[:, self._kept()] = X[:, :n_kept]
        imputed = X[:, n_kept:].astype(bool)
        out[:, self.indicator_.features_] = np.where(
            imputed, self.missing_values, out[:, self.indicator_.features_])
        return out

    def impute_proba(self, X):
        """Probabilities of each category where a categorical column is missing.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A table with missing entries.

        Returns
        -------
        probabilities : dict of str to ndarray of shape (n_samples, n_categories)
            For each categorical column, each category's probability (in
            the order of its categories at fit; 1 at an observed one).
        """
        schema = self._trained_schema()
        if schema is None:
            raise ValueError("impute_proba gives the probabilities of categories: fit the "
                             "imputer on a table with categorical columns.")
        return schema.probabilities(self._fill(X)[2])

    def _fill(self, X):
        """X validated, its values, and its kept columns filled."""
        check_is_fitted(self)
        X, values = validate_holes(self, X, False, self.missing_values, self.net_.loss)
        data = self._kept_values(values)
        dtype = X.dtype.type if self._schema is None else np.float64
        if sp.issparse(data):
            filled = self._fill_sparse(data, dtype)
        else:
            filled = map_batches(self.net_, self.net_.fill_batch, data, dtype,
                                 inference_batch_size(data.shape[1]))
        if self.keep_empty_features and not self._valid_mask.all():
            schema = self._trained_schema()
            empty = ~self._valid_mask if schema is None else schema.expand(~self._valid_mask)
            if sp.issparse(filled):
                filled.data[np.isin(filled.indices, np.flatnonzero(empty))] = 0
                filled.eliminate_zeros()
            else:
                filled[:, empty] = 0
        return X, values, filled

    def _fill_sparse(self, data, dtype):
        """A CSR matrix with its stored NaN filled, a batch of rows densified
        at a time."""
        filled = data.astype(dtype)
        holes = np.isnan(filled.data)
        size = inference_batch_size(data.shape[1])
        for start in range(0, data.shape[0], size):
            first, last = filled.indptr[start], filled.indptr[min(start + size, data.shape[0])]
            here = holes[first:last]
            if not here.any():
                continue
            rows = np.repeat(np.arange(min(size, data.shape[0] - start)),
                             np.diff(filled.indptr[start:start + size + 1]))[here]
            dense = map_batches(self.net_, self.net_.fill_batch, data[start:start + size],
                                dtype, size)
            filled.data[first:last][here] = dense[rows, filled.indices[first:last][here]]
        return filled

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; by default ``feature_names_in_``, or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The kept input features, then the indicator's features.
        """
        check_is_fitted(self, "n_features_in_")
        input_features = _check_feature_names_in(self, input_features)
        names = input_features if self.keep_empty_features else input_features[
            self._valid_mask]
        if self.add_indicator:
            names = np.concatenate(
                [names, self.indicator_.get_feature_names_out(input_features)])
        return names

    # ----------------------------------------------------- saving (skae.save)
    def _fitted_state(self):
        state = {"valid_mask": self._valid_mask.tolist()}
        if self.indicator_ is not None:
            state["indicated"] = self.indicator_.features_.tolist()
        return state

    def _restore_fitted_state(self, state):
        self._valid_mask = np.asarray(state["valid_mask"], dtype=bool)
        self.indicator_ = None
        if "indicated" in state:
            # The indicator's fitted state is which columns it reports: an
            # indicator fitted on one row missing exactly there.
            table = self._schema is not None
            mark = 1.0 if table else self.missing_values
            row = np.full((1, len(self._valid_mask)), 0.0 if is_nan(mark) or mark else 1.0)
            row[0, state["indicated"]] = mark
            self.indicator_ = MissingIndicator(
                missing_values=1.0 if table else self.missing_values,
                error_on_new=False).fit(row)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
