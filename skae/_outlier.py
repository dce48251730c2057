"""AutoencoderOutlierDetector: anomaly detection by reconstruction."""

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _AutoencoderCore, corruption_net_kwargs, vae_net_kwargs


class AutoencoderOutlierDetector(OutlierMixin, _AutoencoderCore):
    """Outlier detection with an autoencoder or a VAE.

    The network learns to reconstruct the training data. Samples it
    reconstructs badly are unlike that data: :meth:`score_samples` is minus
    the reconstruction error (``model="ae"``) or the ELBO (``model="vae"``),
    higher for more normal samples, and ``offset_`` is the threshold below
    which :meth:`predict` calls a sample an outlier. The API follows
    scikit-learn's outlier detectors (:class:`~sklearn.ensemble.IsolationForest`,
    :class:`~sklearn.neighbors.LocalOutlierFactor` with ``novelty=True``).
    On raw, unscaled data the network starts from PCA (or probabilistic PCA)
    as the transformers do, so its scores rank outliers at least about as
    well as PCA's reconstruction error; errors are in the data's own units.

    Parameters
    ----------
    model : {"ae", "vae"}, default="ae"
        The network: an autoencoder, or a variational autoencoder.

    contamination : "auto" or float, default="auto"
        Expected proportion of outliers in the training data, in (0, 0.5]:
        ``offset_`` is that percentile of the training scores. ``"auto"``
        places it at Tukey's fence of the training scores, the first
        quartile minus 1.5 interquartile ranges.

    latent_dim, hidden_layer_sizes, architecture, image_shape, conv_channels, \
activation, loss, max_epochs, batch_size, lr, lr_schedule, weight_decay, \
early_stopping, validation_fraction, patience, device, precision, \
random_state, verbose
        As for :class:`AutoencoderTransformer`; ``latent_dim`` defaults to 8.

    noise : float, default=0.0
        Strength of the input corruption while training (``model="ae"``).

    corruption : {"gaussian", "masking"}, default="gaussian"
        Kind of input corruption, as for :class:`AutoencoderTransformer`.

    beta : float, default=1.0
        Weight of the KL term while training (``model="vae"``).

    Attributes
    ----------
    offset_ : float
        Threshold on :meth:`score_samples`: ``decision_function`` is
        ``score_samples - offset_``, negative for outliers.

    net_, device_, n_iter_, loss_curve_, validation_loss_curve_, \
n_features_in_, feature_names_in_
        As for :class:`AutoencoderTransformer`.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.
    AutoencoderTransformer : The autoencoder on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderOutlierDetector
    >>> X = load_digits().data / 16
    >>> detector = AutoencoderOutlierDetector(contamination=0.05, max_epochs=20,
    ...                                       random_state=0).fit(X)
    >>> noise = np.random.default_rng(0).random((5, 64))
    >>> detector.predict(noise)
    array([-1, -1, -1, -1, -1])
    >>> round(float(np.mean(detector.predict(X) == -1)), 2)
    0.05
    """

    _parameter_constraints: dict = {
        **_AutoencoderCore._parameter_constraints,
        "model": [StrOptions({"ae", "vae"})],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "corruption": [StrOptions({"gaussian", "masking"})],
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        model="ae",
        *,
        contamination="auto",
        latent_dim=8,
        hidden_layer_sizes=(256, 128),
        architecture="mlp",
        image_shape=None,
        conv_channels=(32, 64),
        activation="relu",
        loss="mse",
        max_epochs=200,
        batch_size=64,
        lr=1e-3,
        lr_schedule="constant",
        weight_decay=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        patience=10,
        device="cpu",
        precision="32",
        random_state=None,
        verbose=0,
        noise=0.0,
        corruption="gaussian",
        beta=1.0,
    ):
        super().__init__(
            latent_dim,
            hidden_layer_sizes=hidden_layer_sizes,
            architecture=architecture,
            image_shape=image_shape,
            conv_channels=conv_channels,
            activation=activation,
            loss=loss,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            lr_schedule=lr_schedule,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            device=device,
            precision=precision,
            random_state=random_state,
            verbose=verbose,
        )
        self.model = model
        self.contamination = contamination
        self.noise = noise
        self.corruption = corruption
        self.beta = beta

    @property
    def _kind(self):
        return self.model

    def _start_maps(self, start):
        if self.model == "vae":
            return start.ppca_maps(self.latent_dim)
        return start.pca_maps(self.latent_dim)

    def _net_kwargs(self, start):
        if self.model == "vae":
            return vae_net_kwargs(start, self.beta)
        return corruption_net_kwargs(self.noise, self.corruption)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on X and set the threshold ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, mostly normal.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return super().fit(X)

    def _fit(self, X):
        super()._fit(X)
        scores = self.score_samples(X)
        if self.contamination == "auto":
            q1, q3 = np.percentile(scores, [25, 75])
            self.offset_ = float(q1 - 1.5 * (q3 - q1))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))

    def score_samples(self, X):
        """Normality of each sample: higher is more normal.

        Minus the mean reconstruction error over features (``model="ae"``),
        or the ELBO in nats (``model="vae"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return super().score_samples(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def feature_errors(self, X):
        """Per-feature reconstruction errors: which features make a sample anomalous.

        Squared error (``loss="mse"``) or binary cross-entropy (``loss="bce"``)
        of each feature's reconstruction from the code (the posterior mean for
        a VAE). Averaged over features, they give the autoencoder's
        :meth:`score_samples` with the sign flipped.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, whole=False)
        return self._map(self.net_.feature_errors, X, self._check_values)
