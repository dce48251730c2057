"""AutoencoderImputer: missing values filled by a denoising autoencoder."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.impute import MissingIndicator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
)

from ._batches import map_batches
from ._checks import positive_ints, validate_holes
from ._docstrings import fill_docstring
from ._imputer_module import ImputerModule, standardization
from ._imputer_net import EntrySplit, ImputerNet
from ._inference import inference_batch_size
from ._networks import ACTIVATIONS
from ._onnx_graphs import ImputerOnnx
from ._policy import training_policy
from ._runtime import resolve_device, seed_from, torch_threads, training_threads


@fill_docstring
class AutoencoderImputer(TransformerMixin, ImputerOnnx, BaseEstimator):
    """Imputation of missing values by a denoising autoencoder.

    Each row is read with its holes: the network sees the observed values
    (standardized per column) and the mask of which are observed, and
    predicts every entry; :meth:`transform` replaces the missing entries by
    the predictions and returns the observed ones unchanged. Training
    follows MIDAS (Lall & Robinson, 2022): every step hides a further
    ``noise`` fraction of the observed entries, and the loss is the squared
    error on the observed entries only, so the network learns to fill holes
    from what it sees. A linear map runs beside the nonlinear encoder and
    decoder, and both start at zero: the untrained network imputes the
    column means. Early stopping monitors the error on observed entries held
    out of training (``validation_fraction``) and keeps the best epoch, the
    mean-imputing start included, so the held-out entries are never imputed
    worse than by the mean, however the columns are scaled: no scaler is
    needed.

    A single pass suffices at :meth:`transform`: feeding the filled values
    back in (iterative refinement) did not lower the error in our
    measurements (``benchmarks/bench_imputation.py``), since the network
    already sees which entries are missing.

    Parameters
    ----------
    missing_values : int, float or np.nan, default=np.nan
        The placeholder of missing values; every occurrence is imputed.

    latent_dim : int, default=256
        Width of the code between encoder and decoder.

    hidden_layer_sizes : int or tuple of int, default=(512,)
        Widths of the encoder's hidden layers; the decoder mirrors them.

    {activation}
    noise : float, default=0.25
        Fraction of the observed entries hidden at each training step (in
        [0, 1)).

    max_epochs : int, default=300
        Maximum number of passes over the rows.

    batch_size : int, default=64
        Rows per mini-batch of the AdamW optimizer.

    lr : float, default=1e-3
        Learning rate.

    weight_decay : float, default=1e-4
        Decoupled weight decay (AdamW).

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the observed entries and stop
        when their imputation error has not improved for ``patience``
        epochs, keeping the best weights. Without it, training runs
        ``max_epochs`` epochs on all observed entries.

    validation_fraction : float, default=0.1
        Fraction of the observed entries held out for early stopping.

    patience : int, default=30
        Epochs without improvement before stopping.

    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator`'s columns to the
        output (features that had missing values during fit).

    keep_empty_features : bool, default=False
        Keep the columns that have no observed value during ``fit`` (imputed
        as 0) instead of dropping them, as scikit-learn's imputers do.

    {table}
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA if available).

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the held-out entries, the batch order and
        the hidden entries. Global random states are left untouched.

    verbose : int, default=0
        0 prints nothing; 1 or more prints the per-epoch losses: a progress
        bar on a terminal (with tqdm), skorch's per-epoch table elsewhere.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The fitted skorch net (``net_.module_``, ``net_.history``).

    device_ : str
        Device the model was trained on.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : ndarray of shape (n_epochs,)
        Training loss (standardized units) of each epoch.

    validation_loss_curve_ : ndarray of shape (n_epochs,) or None
        Mean squared imputation error of the held-out entries, in
        standardized units (1 is the mean imputation's error, about), per
        epoch; None without early stopping.

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

    _parameter_constraints: dict = {
        "missing_values": [Real],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "noise": [Interval(Real, 0, 1, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like"],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, missing_values=np.nan, *, latent_dim=256, hidden_layer_sizes=(512,),
                 activation="relu", noise=0.25, max_epochs=300, batch_size=64, lr=1e-3,
                 weight_decay=1e-4, early_stopping=True, validation_fraction=0.1, patience=30,
                 add_indicator=False, keep_empty_features=False,
                 categorical_features="from_dtype", device="cpu", random_state=None, verbose=0):
        self.missing_values = missing_values
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.noise = noise
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.categorical_features = categorical_features
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ the data
    def _validate(self, X, reset):
        """X (as float32/float64 for numbers), its missing entries per
        column, and a copy of the kept columns with NaN at the missing
        entries (:func:`skae._checks.validate_holes`)."""
        X, missing, values = validate_holes(self, X, reset, self.missing_values)
        self._keep_columns(missing, reset)
        kept = self._kept() if self._schema is None else self._schema.expand(self._kept())
        return X, missing, values[:, kept]

    def _keep_columns(self, missing, reset):
        """At fit, which columns have observed values (``_valid_mask``)."""
        if reset:
            self._valid_mask = ~missing.all(axis=0) if len(missing) else \
                np.ones(missing.shape[1], bool)
            if not self._valid_mask.all() and not self.keep_empty_features:
                warnings.warn("Skipping features without any observed values: "
                              f"{np.flatnonzero(~self._valid_mask).tolist()}. At least one "
                              "observed value is needed for imputation; set "
                              "keep_empty_features=True to keep them (as zeros).",
                              UserWarning, stacklevel=4)

    def _kept(self):
        """Which columns go through the network."""
        return np.ones_like(self._valid_mask) if self.keep_empty_features else self._valid_mask

    # --------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the imputer on X, whose missing entries are ``missing_values``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted imputer.
        """
        X, missing, data = self._validate(X, reset=True)
        if self.add_indicator:  # a table's indicator reads its missing entries
            table = self._schema is not None
            self.indicator_ = MissingIndicator(
                missing_values=1.0 if table else self.missing_values,
                error_on_new=False).fit(missing.astype(float) if table else X)
        else:
            self.indicator_ = None
        with torch.inference_mode(False), torch.enable_grad():
            self._train(data)
        return self

    def _train(self, data):
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        hidden = positive_ints(self.hidden_layer_sizes, "hidden_layer_sizes")
        policy = training_policy(
            n_samples=len(data), max_epochs=self.max_epochs, batch_size=self.batch_size,
            lr=self.lr, lr_schedule="constant", weight_decay=self.weight_decay,
            early_stopping=self.early_stopping, validation_fraction=self.validation_fraction,
            patience=self.patience, device=device, seed=seed, verbose=int(self.verbose),
            precision="32")
        schema = self._output_schema()
        # A table's one-hot group is hidden or held out whole.
        columns = None if schema is None else schema.expand(np.arange(len(schema.columns)))
        if policy["train_split"] is not None:
            policy["train_split"] = EntrySplit(self.validation_fraction, seed, columns)
        net = ImputerNet(ImputerModule, module__n_features=data.shape[1],
                         module__latent_dim=self.latent_dim, module__hidden_layer_sizes=hidden,
                         module__activation=self.activation, module__seed=seed,
                         module__loss="mse" if schema is None else schema.loss_spec(),
                         noise=self.noise, corruption="masking", columns=columns, **policy)
        net.initialize()
        net.module_.set_standardization(*standardization(
            data, None if schema is None else schema.numeric_mask()))
        tensor = torch.as_tensor(data, dtype=torch.float32).to(device)
        with torch_threads(training_threads(net.module_, self.batch_size, device)):
            net.partial_fit(tensor, epochs=None)
        if net.stopped_by_user(self.max_epochs):
            raise KeyboardInterrupt(f"{type(self).__name__} training was interrupted.")
        self.net_, self.device_ = net, device
        self.n_iter_ = len(net.history)
        self.loss_curve_, self.validation_loss_curve_ = net.loss_curves()

    # ------------------------------------------------------------- inference
    def transform(self, X):
        """Impute all missing values in X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out) or DataFrame
            X filled (columns without observed values at fit dropped unless
            ``keep_empty_features``, then the indicator's), in X's dtype; a
            table with boolean or categorical columns as a table (a DataFrame
            when fitted on one), holes in categories at the most probable.
        """
        X, missing, filled = self._fill(X)
        schema = self._output_schema()
        if schema is None:
            if self.add_indicator:
                filled = np.hstack([filled, self.indicator_.transform(X).astype(X.dtype)])
            return filled
        table = schema.decode(filled, frame="pandas")
        if self.add_indicator:
            indicator = self.indicator_.transform(missing.astype(float))
            table[list(self.get_feature_names_out()[-indicator.shape[1]:])] = indicator
        return schema.as_fitted(table)

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
        schema = self._output_schema()
        if schema is None:
            raise ValueError("impute_proba gives the probabilities of categories: fit the "
                             "imputer on a table with categorical columns.")
        return schema.probabilities(self._fill(X)[2])

    def _fill(self, X):
        """X validated, its missing entries, and its kept columns filled."""
        check_is_fitted(self)
        X, missing, data = self._validate(X, reset=False)
        dtype = X.dtype.type if self._schema is None else np.float64
        filled = map_batches(self.net_, self.net_.fill_batch, data, dtype,
                             inference_batch_size(data.shape[1]))
        if filled is None:  # no rows
            filled = np.empty(data.shape, dtype=dtype)
        if self.keep_empty_features:
            schema = self._output_schema()
            empty = ~self._valid_mask if schema is None else schema.expand(~self._valid_mask)
            filled[:, empty] = 0
        return X, missing, filled

    def _output_schema(self):
        """A table's schema of the kept columns (None for numbers alone)."""
        schema = getattr(self, "_schema", None)
        return None if schema is None else schema.subset(self._kept())

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
