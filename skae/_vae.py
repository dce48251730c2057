"""VAETransformer: a variational autoencoder as a scikit-learn transformer."""

from numbers import Integral, Real

from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseAutoencoder, vae_net_kwargs


class VAETransformer(_BaseAutoencoder):
    """Variational autoencoder (VAE) as a transformer and generative model.

    The encoder gives a diagonal Gaussian posterior q(z | x) over a
    ``latent_dim``-dimensional code with a standard normal prior; the decoder
    is Bernoulli (``loss="bce"``) or Gaussian with a learned variance
    (``loss="mse"``; one variance shared by all features, set to its optimum,
    the mean squared residual, while training). Training maximizes the evidence lower bound
    (ELBO), with weight ``beta`` on its KL term.

    :meth:`transform` returns the posterior mean (deterministic),
    :meth:`inverse_transform` the decoder's mean, :meth:`sample` decodes draws
    from the prior, and :meth:`score_samples` is the per-sample ELBO in nats.

    No scaler is needed (``loss="mse"``): the network trains on the data
    centred and divided by one common scale (the ELBO is reported in the
    data's own units), and it starts from probabilistic PCA (Tipping & Bishop,
    1999), the maximum-likelihood linear Gaussian VAE, with nonlinear
    corrections that start at zero. Validation-based early stopping keeps the
    best epoch, the untrained start included.

    Parameters
    ----------
    latent_dim : int, default=2
        Size of the code (the number of output features of :meth:`transform`).

    hidden_layer_sizes : int or tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers, input side first. The decoder
        mirrors them.

    architecture : {"mlp", "conv"}, default="mlp"
        ``"mlp"``: fully connected layers (``hidden_layer_sizes``). ``"conv"``:
        a convolutional encoder (stride-2 3x3 convolutions with
        ``conv_channels`` channels, then a linear code) and its mirror as
        decoder, for rows that are flattened images of ``image_shape``.

    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(channels, height, width)`` of one row, whose
        product must be the number of features. Required by ``"conv"``.

    conv_channels : tuple of int, default=(32, 64)
        Channels of the convolutional encoder's layers (``"conv"`` only).

    activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "silu", "tanh", \
"sigmoid", "identity"}, default="relu"
        Nonlinearity after each hidden layer.

    loss : {"mse", "bce"}, default="mse"
        Decoder likelihood. ``"mse"``: Gaussian with a learned variance, for
        real-valued data. ``"bce"``: Bernoulli (binary
        cross-entropy), for data in [0, 1].

    max_epochs : int, default=200
        Maximum number of passes over the training data.

    batch_size : int, default=64
        Mini-batch size of the Adam(W) optimizer.

    lr : float, default=1e-3
        Learning rate.

    lr_schedule : {"constant", "cosine"}, default="constant"
        ``"cosine"`` decays the learning rate from ``lr`` to 0 along a cosine
        over ``max_epochs``, stepping after every batch: slower at first,
        lower final error for long trainings.

    weight_decay : float, default=1e-4
        Decoupled weight decay (AdamW).

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data and stop when the
        validation loss (negative ELBO) has not improved for ``patience``
        epochs, keeping the best weights.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.

    patience : int, default=10
        Epochs without improvement of the validation loss before stopping.

    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA if available).

    precision : {"32", "bf16"}, default="32"
        Precision of the training forward pass: float32, or bfloat16 autocast
        (weights, gradients and the loss stay float32). On this project's CPU
        (AVX512-BF16) ``"bf16"`` took 0.75x the time for an MNIST-sized network
        but 1.4x for a small one (``benchmarks/bench_overhead.py``). Inference
        always runs in the input's precision.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, the validation split, batch order and
        posterior sampling during training. Global numpy and torch random
        states are left untouched.

    verbose : int, default=0
        0 prints nothing; 1 or more prints a table of per-epoch losses.

    beta : float, default=1.0
        Weight of the KL term in the training loss (a beta-VAE when != 1).
        :meth:`score_samples` always reports the true ELBO (beta = 1).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The fitted skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the training history.

    device_ : str
        Device the model was trained on.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : ndarray of shape (n_epochs,)
        Training loss (negative beta-ELBO per sample) of each epoch.

    validation_loss_curve_ : ndarray of shape (n_epochs,) or None
        Validation loss of each epoch, when early stopping held data out.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    AutoencoderTransformer : Deterministic autoencoder.
    sklearn.decomposition.PCA : The linear baseline.

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

    _kind = "vae"

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        latent_dim=2,
        *,
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
        self.beta = beta

    def _start_maps(self, start):
        return start.ppca_maps(self.latent_dim)

    def _net_kwargs(self, start):
        return vae_net_kwargs(start, self.beta)

    def score_samples(self, X):
        """Per-sample evidence lower bound (ELBO), in nats.

        A deterministic Monte Carlo estimate over a fixed set of posterior
        draws: the same sample always gets the same score, whatever batch it
        comes in. Higher is better; ``-score_samples(X)`` is the negative
        ELBO, an upper bound on each sample's negative log-likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
        """
        return super().score_samples(X)

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
            Seed of the prior draws; None uses numpy's global random state.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Generated samples, float64.
        """
        check_is_fitted(self)
        rng = check_random_state(random_state)
        z = rng.standard_normal((n_samples, self._n_features_out))
        return self.inverse_transform(z)
