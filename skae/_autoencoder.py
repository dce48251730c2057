"""AutoencoderTransformer: a nonlinear, PCA-like transformer."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseAutoencoder, corruption_net_kwargs


class AutoencoderTransformer(_BaseAutoencoder):
    """Autoencoder dimensionality reduction, a nonlinear alternative to PCA.

    A fully connected encoder maps each sample to a ``latent_dim``-dimensional
    code and a mirrored decoder maps codes back to the data space; both are
    trained to reconstruct the training data. :meth:`transform` returns codes,
    :meth:`inverse_transform` reconstructions, and :meth:`score_samples` minus
    the reconstruction error, which makes the model an anomaly scorer too.
    With ``noise > 0`` it is a denoising autoencoder.

    No scaler is needed (``loss="mse"``): the network trains on the data
    centred and divided by one common scale, so its squared error weighs the
    columns exactly as the error in the data's own units does, and it starts
    from PCA's solution, a linear path plus nonlinear corrections that start
    at zero. Validation-based early stopping keeps the best epoch, the
    untrained PCA start included, so held-out reconstruction error is no
    worse than PCA's up to the noise of the validation split, and lower
    where a nonlinear code helps.

    Training runs on PyTorch through skorch (the fitted net is ``net_``).

    Parameters
    ----------
    latent_dim : int, default=2
        Size of the code (the number of output features of :meth:`transform`).

    hidden_layer_sizes : int or tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers, input side first. The decoder
        mirrors them. ``()`` gives a linear autoencoder.

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
        Reconstruction loss. ``"mse"``: mean squared error with an unbounded
        (identity) output, for any real-valued data, raw or scaled; codes start
        as PCA's scores, in the data's units. ``"bce"``: binary cross-entropy
        with a sigmoid output, for data in [0, 1] such as pixel intensities
        (trained on the data as it is, without the PCA start).

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
        validation loss has not improved for ``patience`` epochs, keeping the
        best weights. Without it, training runs ``max_epochs`` epochs.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping. Ignored
        when ``early_stopping=False`` or when the data is too small to split.

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
        noise. An int gives identical results across fits and processes.
        Global numpy and torch random states are left untouched.

    verbose : int, default=0
        0 prints nothing; 1 or more prints a table of per-epoch losses.

    noise : float, default=0.0
        Strength of the corruption of the inputs during training (a denoising
        autoencoder when > 0): the standard deviation of added Gaussian noise,
        or, with ``corruption="masking"``, the fraction of inputs set to zero
        (below 1). :meth:`transform` and :meth:`inverse_transform` never
        corrupt.

    corruption : {"gaussian", "masking"}, default="gaussian"
        Kind of corruption: additive Gaussian noise, or masking noise (each
        input independently set to zero with probability ``noise``).

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
        Training loss of each epoch.

    validation_loss_curve_ : ndarray of shape (n_epochs,) or None
        Validation loss of each epoch, when early stopping held data out.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    VAETransformer : Variational autoencoder, with a generative model.
    sklearn.decomposition.PCA : The linear baseline.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(latent_dim=2, max_epochs=5, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 2)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:2].tolist()
    ['autoencodertransformer0', 'autoencodertransformer1']
    """

    _kind = "ae"

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        "noise": [Interval(Real, 0, None, closed="left")],
        "corruption": [StrOptions({"gaussian", "masking"})],
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
        noise=0.0,
        corruption="gaussian",
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
        self.noise = noise
        self.corruption = corruption

    def _net_kwargs(self, start):
        return corruption_net_kwargs(self.noise, self.corruption)

    def score_samples(self, X):
        """Minus each sample's reconstruction error (higher is more typical).

        The error is the squared error (``loss="mse"``) or the binary
        cross-entropy (``loss="bce"``), averaged over features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the per-sample reconstruction error.
        """
        return super().score_samples(X)
