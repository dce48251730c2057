"""Torch building blocks for skae's networks (this layer imports torch only)."""

import functools
import math

import torch
from torch import nn
from torch.nn.utils import skip_init

from ._loss import get_loss

__all__ = ["ACTIVATIONS", "AutoencoderModule", "VAEModule"]

#: Names accepted by the ``activation`` parameter, mapped to torch modules.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}

#: Updates over which the VAE decoder's variance is a running mean, before
#: it becomes an exponential moving average.
_VARIANCE_WINDOW = 20


#: Most antithetic pairs of posterior draws that score a VAE sample.
_MAX_SCORE_PAIRS = 32


@functools.lru_cache(maxsize=16)
def _moment_matched_draws(n_draws, dim):
    """Fixed standard-normal draws with exactly zero mean, and identity
    covariance where there are at least ``dim`` pairs.

    Antithetic pairs (``e`` and ``-e``) of seeded draws, whitened: one fixed
    set used for every sample is then accurate to third order in the draws
    instead of carrying its own random error into every score. (The same raw
    draws for all samples would bias a whole dataset's score the same way.)
    By default ``2 * clip(dim, 8, 32)`` draws: the cost does not grow past
    32 latent dimensions.
    """
    half = max((n_draws or 2 * min(max(dim, 8), _MAX_SCORE_PAIRS)) // 2, 1)
    raw = torch.randn(half, dim, dtype=torch.float64,
                      generator=torch.Generator().manual_seed(0))
    if half >= dim:
        eigval, eigvec = torch.linalg.eigh(raw.T @ raw / half)
        raw = raw @ eigvec @ torch.diag(eigval.rsqrt()) @ eigvec.T
    return torch.cat([raw, -raw])


def _layer(cls, *args, **kwargs):
    """A float32 layer whose parameters are left for :func:`_init_layer`
    (constructing it draws nothing from torch's global generator)."""
    return skip_init(cls, *args, dtype=torch.float32, **kwargs)


def _init_layer(layer, generator):
    """torch's default initialization of a linear or convolutional layer
    (Kaiming-uniform weights, uniform biases), drawn from ``generator``."""
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    if layer.bias is not None:
        fan_in = layer.weight.shape[1] * math.prod(layer.weight.shape[2:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def _mlp(sizes, activation):
    """Linear layers through ``sizes`` with ``activation`` after each one."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [_layer(nn.Linear, n_in, n_out), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def _last_layer(network):
    """The last layer of ``network`` that has weights."""
    return [m for m in network.modules() if hasattr(m, "weight")][-1]


class _Crop(nn.Module):
    """Crop feature maps to ``(height, width)``."""

    def __init__(self, height, width):
        super().__init__()
        self.height, self.width = height, width

    def forward(self, x):
        return x[..., : self.height, : self.width]


def _image_shape(image_shape):
    """``(channels, height, width)`` from ``(height, width)`` or itself."""
    shape = tuple(int(d) for d in image_shape)
    return (1, *shape) if len(shape) == 2 else shape


def _conv_encoder(image_shape, channels, activation):
    """Stride-2 3x3 convolutions over flat rows; returns the body and its
    output shape ``(channels, height, width)``."""
    c, h, w = _image_shape(image_shape)
    layers = [nn.Unflatten(1, (c, h, w))]
    for out in channels:
        layers += [_layer(nn.Conv2d, c, out, 3, stride=2, padding=1),
                   ACTIVATIONS[activation]()]
        c, h, w = out, (h + 1) // 2, (w + 1) // 2
    return nn.Sequential(*layers, nn.Flatten()), (c, h, w)


def _conv_decoder(latent_dim, image_shape, channels, code_shape, activation):
    """Mirror of :func:`_conv_encoder`: linear, then stride-2 transposed
    convolutions, cropped to the image and flattened to rows."""
    c_img, h, w = _image_shape(image_shape)
    layers = [_layer(nn.Linear, latent_dim, math.prod(code_shape)), ACTIVATIONS[activation](),
              nn.Unflatten(1, code_shape)]
    widths = [*channels[::-1], c_img]
    for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(_layer(nn.ConvTranspose2d, c_in, c_out, 3, stride=2, padding=1,
                             output_padding=1))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers, _Crop(h, w), nn.Flatten())


class AutoencoderModule(nn.Module):
    """Fully connected autoencoder: an MLP encoder and a mirrored decoder.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    latent_dim : int
        Width of the code.
    hidden_layer_sizes : tuple of int
        Widths of the encoder's hidden layers; the decoder uses them reversed.
    activation : str
        A key of :data:`ACTIVATIONS`, used after every hidden layer.
    loss : {"mse", "bce"}
        The reconstruction loss (:mod:`skae._loss`), whose link maps the
        decoder's last layer to the data space. :meth:`forward` returns the
        values *before* the link (logits for ``"bce"``), which the numerically
        stable losses expect.
    architecture : {"mlp", "conv"}
        Fully connected layers (``hidden_layer_sizes``), or convolutions over
        rows that are flattened images of ``image_shape`` (``channels``).
    image_shape : tuple of int, optional
        ``(height, width)`` or ``(channels, height, width)`` of one row.
    channels : tuple of int
        Output channels of the convolutional encoder's stride-2 layers.
    linear_path : bool
        Add a linear encoder and decoder beside the nonlinear ones, and start
        the nonlinear ones' last layers at zero: the network is then the
        linear model that :meth:`set_linear_start` gives (e.g. PCA) plus
        nonlinear corrections that training grows from zero.
    seed : int
        Seed of the initial weights, drawn from a generator of the module's
        own: torch's global random state is neither used nor changed.

    The network works in an internal space, ``(x - center) / scale`` with
    ``center`` and ``scale`` set by :meth:`set_linear_start` (the identity
    until then): :meth:`encode` takes data in its own units, :meth:`decode`
    returns them, and :meth:`forward` returns the reconstruction in the
    internal space, where the losses compare it with :meth:`normalize` of the
    input.
    """

    def __init__(self, n_features, latent_dim, hidden_layer_sizes=(), activation="relu",
                 loss="mse", architecture="mlp", image_shape=None, channels=(32, 64),
                 linear_path=False, seed=0):
        super().__init__()
        self.reconstruction = get_loss(loss)
        if architecture == "conv":
            self.encoder_body, code_shape = _conv_encoder(image_shape, channels, activation)
            self.decoder = _conv_decoder(latent_dim, image_shape, channels, code_shape,
                                         activation)
            width = math.prod(code_shape)
        else:
            hidden = list(hidden_layer_sizes)
            self.encoder_body = _mlp([n_features, *hidden], activation)
            self.decoder = nn.Sequential(
                _mlp([latent_dim, *hidden[::-1]], activation),
                _layer(nn.Linear, ([latent_dim, *hidden[::-1]])[-1], n_features),
            )
            width = hidden[-1] if hidden else n_features
        self._init_code_head(width, latent_dim)
        # The internal space: x_internal = (x - center) / scale. Set by
        # set_linear_start; the identity until then.
        self.register_buffer("center", torch.zeros(n_features, dtype=torch.float32))
        self.register_buffer("scale", torch.ones((), dtype=torch.float32))
        # Codes are reported as internal codes times code_scale.
        self.register_buffer("code_scale", torch.ones((), dtype=torch.float32))
        self.linear_path = bool(linear_path)
        if self.linear_path:
            # code = linear_encoder(x_internal) + code(encoder_body(x_internal)),
            # reconstruction = linear_decoder(code) + decoder(code): linear maps
            # plus nonlinear corrections whose last layers start at zero.
            self.linear_encoder = _layer(nn.Linear, n_features, latent_dim, bias=False)
            self.linear_decoder = _layer(nn.Linear, latent_dim, n_features, bias=False)
        self.reset_parameters(torch.Generator().manual_seed(int(seed)))

    @torch.no_grad()
    def reset_parameters(self, generator):
        """Initialize every layer from ``generator`` (torch's default scheme),
        then zero the linear path and the corrections' last layers."""
        for layer in self.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                _init_layer(layer, generator)
        if self.linear_path:
            for layer in (self.linear_encoder, self.linear_decoder, self.code,
                          _last_layer(self.decoder)):
                nn.init.zeros_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)

    def _init_code_head(self, width, latent_dim):
        self.code = _layer(nn.Linear, width, latent_dim)

    @torch.no_grad()
    def set_linear_start(self, center, scale, encoder_weight=None, decoder_weight=None,
                         code_scale=1.0):
        """Set the internal space and the linear path's starting maps.

        Parameters
        ----------
        center : tensor of shape (n_features,)
            Subtracted from the input.
        scale : float
            The centered input is divided by it.
        encoder_weight : tensor of shape (latent_dim, n_features), optional
            Linear encoder on the internal space (e.g. the principal axes).
        decoder_weight : tensor of shape (n_features, latent_dim), optional
            Linear decoder back to the internal space.
        code_scale : float
            :meth:`encode` reports the internal code times ``code_scale``
            (e.g. ``scale``, for PCA's scores in the data's units) and
            :meth:`decode` divides by it.
        """
        self.center.copy_(torch.as_tensor(center, dtype=self.center.dtype))
        self.scale.fill_(float(scale))
        self.code_scale.fill_(float(code_scale))
        if self.linear_path:
            self.linear_encoder.weight.copy_(torch.as_tensor(encoder_weight))
            self.linear_decoder.weight.copy_(torch.as_tensor(decoder_weight))

    def normalize(self, x):
        """``x`` in the internal space the network is trained in."""
        return (x - self.center) / self.scale

    def _code_head(self, xn):
        """Output of the code head on internal-space input ``xn``."""
        return self.code(self.encoder_body(xn))

    def _internal_code(self, xn):
        """Code of internal-space input ``xn``, in the internal space."""
        z = self._code_head(xn)
        return z + self.linear_encoder(xn) if self.linear_path else z

    def encode(self, x):
        """Code of ``x`` (deterministic)."""
        return self._internal_code(self.normalize(x)) * self.code_scale

    def decode_raw(self, z):
        """Decoder output in the internal space, before the output link."""
        raw = self.decoder(z)
        return raw + self.linear_decoder(z) if self.linear_path else raw

    def link(self, raw):
        """Map raw decoder output to the internal data space."""
        return self.reconstruction.link(raw)

    def decode(self, z):
        """Reconstruction in the data's own units of codes from :meth:`encode`."""
        return self.link(self.decode_raw(z / self.code_scale)) * self.scale + self.center

    def forward(self, x):
        """Return ``(raw_reconstruction, code)``, both in the internal space
        (compare the reconstruction with :meth:`normalize` of the input)."""
        z = self._internal_code(self.normalize(x))
        return self.decode_raw(z), z


class VAEModule(AutoencoderModule):
    """Variational autoencoder with a diagonal Gaussian posterior.

    The decoder is Bernoulli (``loss="bce"``, binary cross-entropy) or
    Gaussian (``loss="mse"``) with a learned variance, shared by all
    features and bounded below by ``min_variance``: a fixed unit variance makes
    the reconstruction term negligible next to the KL term on data in [0, 1]
    and collapses the posterior. The variance is learned as its closed-form
    optimum, the mean squared residual, tracked over training batches by
    :meth:`update_variance` (a calibrated decoder, the sigma-VAE of Rybkin et
    al., "Simple and Effective VAE Training with Calibrated Decoders", 2021);
    gradient steps on it are too slow to prevent the collapse, and a variance
    per feature lets near-constant features dominate the likelihood.

    Parameters
    ----------
    n_features, latent_dim, hidden_layer_sizes, activation, loss, architecture, \
image_shape, channels, linear_path
        As for :class:`AutoencoderModule`; the linear path gives the
        posterior mean.
    min_variance : float
        Floor of the Gaussian decoder's variance.
    n_score_draws : int or None
        Number of fixed posterior draws of :meth:`elbo_per_sample`; None takes
        ``2 * clip(latent_dim, 8, 32)``.
    """

    def __init__(self, n_features, latent_dim, hidden_layer_sizes=(), activation="relu",
                 loss="mse", architecture="mlp", image_shape=None, channels=(32, 64),
                 linear_path=False, seed=0, min_variance=1e-3, n_score_draws=None):
        super().__init__(n_features, latent_dim, hidden_layer_sizes, activation, loss,
                         architecture, image_shape, channels, linear_path, seed)
        self.n_score_draws = n_score_draws
        self.min_variance = float(min_variance)
        self.register_buffer("running_variance", torch.ones((), dtype=torch.float32))
        self.register_buffer("variance_updates", torch.zeros((), dtype=torch.long))

    def _init_code_head(self, width, latent_dim):
        self.code = _layer(nn.Linear, width, 2 * latent_dim)

    @torch.no_grad()
    def set_linear_start(self, center, scale, encoder_weight=None, decoder_weight=None,
                         code_scale=1.0, logvar=None, noise_variance=None):
        """As :meth:`AutoencoderModule.set_linear_start`, plus the starting
        posterior log-variance (the bias of its head) and decoder variance."""
        super().set_linear_start(center, scale, encoder_weight, decoder_weight, code_scale)
        latent_dim = self.code.out_features // 2
        if logvar is not None:
            self.code.bias[latent_dim:] = torch.as_tensor(logvar)
        if noise_variance is not None:
            self.running_variance.fill_(float(noise_variance))
            # Count the start as a full running average (see update_variance).
            self.variance_updates.fill_(_VARIANCE_WINDOW)

    def posterior(self, x):
        """Mean and log-variance of q(z | x), for ``x`` in the data's units."""
        xn = self.normalize(x)
        mu, logvar = self._code_head(xn).chunk(2, dim=-1)
        if self.linear_path:
            mu = mu + self.linear_encoder(xn)
        return mu, logvar.clamp(-30.0, 20.0)

    def encode(self, x):
        """Posterior mean of the code (deterministic)."""
        return self.posterior(x)[0]

    def variance(self):
        """Variance of the Gaussian decoder (a scalar shared by all features)."""
        return self.running_variance.clamp_min(self.min_variance)

    @torch.no_grad()
    def update_variance(self, raw, xn, momentum=1.0 / _VARIANCE_WINDOW):
        """Move the decoder variance towards this batch's mean squared residual.

        A running mean over the first ``1 / momentum`` updates, then an
        exponential moving average.
        """
        rate = max(momentum, 1.0 / float(self.variance_updates + 1))
        residual = ((xn - raw) ** 2).mean()
        self.running_variance.lerp_(residual.to(self.running_variance.dtype), rate)
        self.variance_updates += 1

    def forward(self, x, generator=None):
        """Return ``(raw_reconstruction, z, mu, logvar)`` with ``z`` drawn
        from the posterior (from ``generator``) in training mode and equal to
        ``mu`` otherwise."""
        mu, logvar = self.posterior(x)
        if self.training:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + eps * torch.exp(0.5 * logvar)
        else:
            z = mu
        return self.decode_raw(z), z, mu, logvar

    def log_likelihood(self, raw, xn):
        """log p(xn | z) per sample, summed over features (nats), for ``xn``
        and ``raw`` in the internal space."""
        return self.reconstruction.log_likelihood(raw, xn, self.variance())

    @staticmethod
    def kl_divergence(mu, logvar):
        """KL(q(z | x) || N(0, I)) per sample (nats)."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)

    def elbo_per_sample(self, x, beta=1.0):
        """Deterministic ELBO estimate per sample, averaged over fixed draws,
        in nats of ``x`` in its own units (the internal space's likelihood
        less the log-Jacobian of the scaling)."""
        mu, logvar = self.posterior(x)
        xn = self.normalize(x)
        std = torch.exp(0.5 * logvar)
        rec = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        draws = _moment_matched_draws(self.n_score_draws, mu.shape[-1])
        for eps in draws.to(device=x.device, dtype=x.dtype):
            rec = rec + self.log_likelihood(self.decode_raw(mu + std * eps), xn)
        jacobian = x.shape[-1] * torch.log(self.scale)
        return rec / len(draws) - jacobian - beta * self.kl_divergence(mu, logvar)
