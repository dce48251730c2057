"""VAETransformer: a variational autoencoder as a scikit-learn transformer."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._checks import extend_init
from ._docstrings import fill_docstring
from ._linear_start import MIN_VARIANCE
from ._transformer import _BaseTransformer
from ._vae_module import VAEModule
from ._vae_net import VAENet


@fill_docstring
class VAETransformer(_BaseTransformer):
    """Variational autoencoder (VAE) as a transformer and generative model.

    The encoder gives a diagonal Gaussian posterior q(z | x) over a
    ``latent_dim``-dimensional code with a standard normal prior; the decoder
    is Bernoulli (``loss="bce"``) or Gaussian with a learned variance
    (``loss="mse"``; one variance shared by all features, set to its optimum,
    the mean squared residual, while training). Training maximizes the
    evidence lower bound (ELBO), with weight ``beta`` on its KL term.

    :meth:`transform` returns the posterior mean (deterministic),
    :meth:`inverse_transform` the decoder's mean, :meth:`sample` decodes draws
    from the prior, and :meth:`score_samples` is the per-sample ELBO in nats.

    No scaler is needed (``loss="mse"``): the network trains on the data
    centred and divided by one common scale (the ELBO is still a log density
    of the data in its own units, in nats), and it starts from probabilistic
    PCA (Tipping & Bishop, 1999), the maximum-likelihood linear Gaussian VAE,
    with nonlinear corrections that start at zero. Validation-based early stopping keeps the
    best epoch, the untrained start included.

    ``encoder=`` and ``decoder=`` take your own torch networks in place of
    the built-in ones; skae adds the mean and log-variance heads (linear
    layers) on your encoder's output, of any ``width``.

    Parameters
    ----------
    {code}
    {network}
    loss : {"mse", "bce"}, default="mse"
        Decoder likelihood. ``"mse"``: Gaussian with a learned variance, for
        real-valued data. ``"bce"``: Bernoulli (binary
        cross-entropy), for data in [0, 1].

    {training}
    {structure}
    beta : float, default=1.0
        Weight of the KL term in the training loss (a beta-VAE when != 1).
        :meth:`score_samples` always reports the true ELBO (beta = 1).

    {table}
    Attributes
    ----------
    {attributes}
    See Also
    --------
    AutoencoderTransformer : Deterministic autoencoder.
    AutoencoderOutlierDetector : Outlier detection with the ELBO as score.
    sklearn.decomposition.PCA : Probabilistic PCA is where the VAE starts.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VAETransformer
    >>> X = load_digits().data / 16
    >>> vae = VAETransformer(latent_dim=2, loss="bce", max_epochs=5, random_state=0)
    >>> vae.fit_transform(X).shape
    (1797, 2)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    >>> bool(vae.score(X) < 0)  # mean ELBO in nats
    True
    """

    _parameter_constraints: dict = {
        **_BaseTransformer._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    __init__ = extend_init(_BaseTransformer.__init__, beta=1.0)

    def _build_net(self, module_kwargs, policy):
        return VAENet(VAEModule, **module_kwargs, beta=self.beta, **policy)

    def _start_maps(self, start, width):
        # Probabilistic PCA; the decoder variance has a floor relative to the
        # data's variance, so that a perfect reconstruction cannot drive the
        # likelihood to infinity.
        floor = {"min_variance": MIN_VARIANCE * max(start.internal_variance, 1e-12)}
        return {**start.ppca_maps(width), **floor}

    @validate_params(
        {"n_samples": [Interval(Integral, 1, None, closed="left")],
         "random_state": ["random_state"]},
        prefer_skip_nested_validation=True,
    )
    def sample(self, n_samples=1, random_state=None):
        """Generate samples by decoding draws from the prior N(0, I).

        Returns the decoder's mean for each draw (pixel probabilities for
        ``loss="bce"``), as a VAE's generated images are usually shown.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        random_state : int, RandomState instance or None, default=None
            Seed of the prior draws; None draws a fresh seed from the
            operating system, as every skae method that draws does
            (numpy's global random state is neither used nor changed).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Generated samples, float64.
        """
        check_is_fitted(self)
        rng = np.random.default_rng() if random_state is None else \
            check_random_state(random_state)
        z = rng.standard_normal((n_samples, self._n_features_out))
        return self.inverse_transform(z)
