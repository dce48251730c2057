"""AutoencoderOutlierDetector: anomaly detection by reconstruction, around
any skae transformer."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OutlierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._set_output import ADAPTERS_MANAGER, _get_output_config
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._autoencoder import AutoencoderTransformer
from ._onnx_graphs import DetectorOnnx


class AutoencoderOutlierDetector(OutlierMixin, MetaEstimatorMixin, DetectorOnnx, BaseEstimator):
    """Outlier detection with an autoencoder, a VAE or any skae transformer.

    The wrapped estimator learns to reconstruct the training data. Samples it
    reconstructs badly are unlike that data: :meth:`score_samples` is the
    estimator's own ``score_samples``, minus the reconstruction error for an
    :class:`AutoencoderTransformer`, the ELBO for a :class:`VAETransformer`,
    higher for more normal samples, and ``offset_`` is the threshold below
    which :meth:`predict` calls a sample an outlier. The API follows
    scikit-learn's outlier detectors (:class:`~sklearn.ensemble.IsolationForest`,
    :class:`~sklearn.neighbors.LocalOutlierFactor` with ``novelty=True``), and
    the estimator is wrapped as :class:`~sklearn.feature_selection.SelectFromModel`
    wraps one: cloned in ``fit``, its parameters reachable as
    ``estimator__<name>`` (e.g. ``GridSearchCV`` over ``estimator__latent_dim``).
    On raw, unscaled data the built-in networks start from PCA (or
    probabilistic PCA), so the scores rank outliers at least about as well as
    PCA's reconstruction error; errors are in the data's own units.

    Parameters
    ----------
    estimator : estimator object, default=None
        An unfitted skae transformer (or any estimator with ``fit`` and
        ``score_samples``, higher for more normal samples), cloned in
        :meth:`fit`. None takes ``AutoencoderTransformer(latent_dim=8)``.

    contamination : "auto" or float, default="auto"
        Expected proportion of outliers in the training data, in (0, 0.5]:
        ``offset_`` is that percentile of the training scores. ``"auto"``
        places it at Tukey's fence of the training scores, the first
        quartile minus 1.5 interquartile ranges.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.

    offset_ : float
        Threshold on :meth:`score_samples`: ``decision_function`` is
        ``score_samples - offset_``, negative for outliers.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.
    AutoencoderTransformer : The default estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderOutlierDetector, AutoencoderTransformer
    >>> X = load_digits().data / 16
    >>> detector = AutoencoderOutlierDetector(
    ...     AutoencoderTransformer(latent_dim=8, max_epochs=20, random_state=0),
    ...     contamination=0.05).fit(X)
    >>> noise = np.random.default_rng(0).random((5, 64))
    >>> detector.predict(noise)
    array([-1, -1, -1, -1, -1])
    >>> round(float(np.mean(detector.predict(X) == -1)), 2)
    0.05
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "score_samples"]), None],  # partial_fit: optional
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
    }

    def __init__(self, estimator=None, *, contamination="auto"):
        self.estimator = estimator
        self.contamination = contamination

    def _new_estimator(self):
        """An unfitted clone of ``estimator`` (or the default one)."""
        if self.estimator is None:
            return AutoencoderTransformer(latent_dim=8)
        return clone(self.estimator)

    # The wrapped estimator validates its own parameters.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit a clone of the estimator on X and set the threshold ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, mostly normal.

        y : Ignored
            Outlier detection is unsupervised.

        Returns
        -------
        self : AutoencoderOutlierDetector
            This detector, with ``estimator_`` and ``offset_``.
        """
        estimator = self._new_estimator().fit(X)
        self._set_fitted(estimator, estimator.score_samples(X))
        return self

    def _set_fitted(self, estimator, scores):
        """The fitted attributes, ``offset_`` from the training ``scores``;
        set only now, so a failed or interrupted re-fit leaves the previous
        model whole."""
        if self.contamination == "auto":
            q1, q3 = np.percentile(scores, [25, 75])
            offset = q1 - 1.5 * (q3 - q1)
        else:
            offset = np.percentile(scores, 100.0 * self.contamination)
        self.__dict__.pop("feature_names_in_", None)
        self.estimator_ = estimator
        self.offset_ = float(offset)
        self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_

    # Parameters are validated on the first call only.
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None):
        """Train the wrapped estimator one more pass on a chunk of X.

        The first call clones the estimator and sets ``offset_`` from this
        chunk's scores, as :meth:`fit` does; later calls leave ``offset_``
        alone. After streaming, recompute it from a representative sample:
        ``detector.offset_ = np.percentile(detector.score_samples(sample),
        100 * contamination)`` (or Tukey's fence for ``"auto"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data, mostly normal.

        y : Ignored
            Outlier detection is unsupervised.

        Returns
        -------
        self : AutoencoderOutlierDetector
            This detector, its estimator trained one more pass.
        """
        if hasattr(self, "estimator_"):
            self.estimator_.partial_fit(X)
            return self
        estimator = self._new_estimator().partial_fit(X)
        self._set_fitted(estimator, estimator.score_samples(X))
        return self

    def score_samples(self, X):
        """Normality of each sample: the estimator's ``score_samples``,
        higher for more normal samples.

        Minus the mean reconstruction error over features for an
        :class:`AutoencoderTransformer`, the ELBO in nats for a
        :class:`VAETransformer`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher for samples more like the training data.
        """
        check_is_fitted(self)
        return self.estimator_.score_samples(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Negative for outliers, positive for inliers.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 or -1 for each sample.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def feature_errors(self, X, method="reconstruction"):
        """Per-feature reconstruction errors: which features make a sample anomalous.

        The estimator's ``feature_errors`` (see
        :meth:`AutoencoderTransformer.feature_errors`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to explain, typically those :meth:`predict` calls outliers.

        method : {"reconstruction", "repair"}, default="reconstruction"
            Each feature's reconstruction error, or the fall of the sample's
            total error at that feature's best repair (better at naming the
            one unusual feature).

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            Each feature's error; the largest point at what is unusual.
        """
        check_is_fitted(self)
        if method == "reconstruction":  # any estimator with feature_errors(X)
            errors = self.estimator_.feature_errors(X)
        else:
            errors = self.estimator_.feature_errors(X, method=method)
        container = _get_output_config("transform", self)["dense"]
        if container == "default":
            return errors
        return ADAPTERS_MANAGER.adapters[container].create_container(
            errors, X, columns=_check_feature_names_in(self, None))

    def set_output(self, *, transform=None):
        """Set the container of :meth:`feature_errors`' output.

        A detector has no ``transform``; its table-shaped output is
        :meth:`feature_errors`, one column per input feature, which this
        sets as scikit-learn's transformers set theirs.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            ``"default"``: a NumPy array; ``"pandas"`` or ``"polars"``: a
            DataFrame whose columns are the input features' names
            (``feature_names_in_``, else ``x0, x1, ...``); None leaves the
            setting unchanged.

        Returns
        -------
        self : AutoencoderOutlierDetector
            This detector.
        """
        if transform is None:
            return self
        if transform not in ("default", "pandas", "polars"):
            raise ValueError("set_output(transform=...) takes 'default', 'pandas' or "
                             f"'polars'; got {transform!r}.")
        self._sklearn_output_config = {"transform": transform}
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator = self._new_estimator()
        inner = estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        tags.non_deterministic = inner.non_deterministic
        return tags
