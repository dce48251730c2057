"""Torch building blocks for skae's networks (this layer imports torch only)."""

import functools

import torch
from torch import nn

from ._loss import get_loss
from ._networks import (
    WEIGHTED_LAYERS,
    builtin_networks,
    init_layer,
    last_layer,
    layer,
    user_network,
)

__all__ = ["AutoencoderModule", "VAEModule"]

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


class AutoencoderModule(nn.Module):
    """Autoencoder: an encoder body and code head, and a decoder.

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
    encoder, decoder : callable, optional
        Users' networks, ``factory(n_features, latent_dim) -> nn.Module``,
        in place of the built-in ones (:func:`skae._networks.user_network`).
        An autoencoder's encoder outputs the code (``latent_dim`` values per
        row); a VAE's encoder outputs any width, on which the module adds the
        mean and log-variance heads. The decoder maps codes to
        ``n_features`` values (before the loss's link). There is no linear
        path with a user's network. ``user_parts`` names the submodules that
        are users' networks.

    The network works in an internal space, ``(x - center) / scale`` with
    ``center`` and ``scale`` set by :meth:`set_linear_start` (the identity
    until then): :meth:`encode` takes data in its own units, :meth:`decode`
    returns them, and :meth:`forward` returns the reconstruction in the
    internal space, where the losses compare it with :meth:`normalize` of the
    input.
    """

    def __init__(self, n_features, latent_dim, hidden_layer_sizes=(), activation="relu",
                 loss="mse", architecture="mlp", image_shape=None, channels=(32, 64),
                 linear_path=False, seed=0, encoder=None, decoder=None):
        super().__init__()
        self.reconstruction = get_loss(loss)
        seed = int(seed)
        if encoder is None or decoder is None:
            self.encoder_body, width, self.decoder = builtin_networks(
                n_features, latent_dim, hidden_layer_sizes, activation, architecture,
                image_shape, channels)
        # Users' networks replace the built-in ones; skae never re-initializes them.
        self.user_parts = frozenset(
            name for name, factory in (("encoder_body", encoder), ("decoder", decoder))
            if factory is not None)
        if encoder is not None:
            self.encoder_body, width = user_network(encoder, "encoder", n_features,
                                                    latent_dim, n_features, seed)
        if decoder is not None:
            self.decoder, out = user_network(decoder, "decoder", n_features, latent_dim,
                                             latent_dim, seed + 1)
            if out != n_features:
                raise ValueError(f"decoder {type(self.decoder).__name__} must output "
                                 f"n_features_in={n_features} values per row; it outputs {out}.")
        self._init_code_head(width, latent_dim)
        # The internal space: x_internal = (x - center) / scale. Set by
        # set_linear_start; the identity until then.
        self.register_buffer("center", torch.zeros(n_features, dtype=torch.float32))
        self.register_buffer("scale", torch.ones(n_features, dtype=torch.float32))
        # Codes are reported as internal codes times code_scale.
        self.register_buffer("code_scale", torch.ones((), dtype=torch.float32))
        # A linear path needs nonlinear parts whose last layers skae can zero.
        self.linear_path = bool(linear_path) and not self.user_parts
        if self.linear_path:
            # code = linear_encoder(x_internal) + code(encoder_body(x_internal)),
            # reconstruction = linear_decoder(code) + decoder(code): linear maps
            # plus nonlinear corrections whose last layers start at zero.
            self.linear_encoder = layer(nn.Linear, n_features, latent_dim, bias=False)
            self.linear_decoder = layer(nn.Linear, latent_dim, n_features, bias=False)
        self.reset_parameters(torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def reset_parameters(self, generator):
        """Initialize skae's own layers from ``generator`` (torch's default
        scheme), then zero the linear path and the corrections' last layers.
        Users' networks keep the initialization they were built with."""
        for name, child in self.named_children():
            if name not in self.user_parts:
                for part in child.modules():
                    if isinstance(part, WEIGHTED_LAYERS):
                        init_layer(part, generator)
        if self.linear_path:
            for part in (self.linear_encoder, self.linear_decoder, self.code,
                         last_layer(self.decoder)):
                nn.init.zeros_(part.weight)
                if part.bias is not None:
                    nn.init.zeros_(part.bias)

    def _init_code_head(self, width, latent_dim):
        if "encoder_body" in self.user_parts:
            if width != latent_dim:
                raise ValueError(f"encoder {type(self.encoder_body).__name__} must output "
                                 f"latent_dim={latent_dim} values per row (the code); it "
                                 f"outputs {width}.")
            self.code = nn.Identity()
        else:
            self.code = layer(nn.Linear, width, latent_dim)

    @torch.no_grad()
    def set_linear_start(self, center, scale, encoder_weight=None, decoder_weight=None,
                         code_scale=1.0):
        """Set the internal space and the linear path's starting maps.

        Parameters
        ----------
        center : tensor of shape (n_features,)
            Subtracted from the input.
        scale : float or tensor of shape (n_features,)
            The centered input is divided by it (one scale for all columns,
            or a column's own: 1 for a table's one-hot and boolean columns).
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
        self.scale.copy_(torch.as_tensor(scale, dtype=self.scale.dtype).expand_as(self.scale))
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

    def code_of(self, output):
        """The code, as :meth:`encode` reports it, in an output of
        :meth:`forward` (the deterministic code a training step computed)."""
        return output[1] * self.code_scale

    def forward(self, x):
        """Return ``(raw_reconstruction, code)``, both in the internal space
        (compare the reconstruction with :meth:`normalize` of the input)."""
        z = self._internal_code(self.normalize(x))
        return self.decode_raw(z), z

    def feature_errors(self, x):
        """Per-column reconstruction errors of ``x`` in the data's units
        (squared units for MSE; BCE trains on the data as it is)."""
        loss = self.reconstruction
        return loss.to_data_units(loss.per_column(self(x)[0], self.normalize(x)), self.scale)

    def feature_repairs(self, x):
        """Per-column fall of each row's total error (:meth:`feature_errors`
        summed) at the column's best single repair: a category or boolean
        set to whichever of its values makes the row's error least, a number
        to what the others predict for it (hidden from the encoder at the
        loss's ``hidden`` input)."""
        total = self.feature_errors(x).sum(dim=-1)
        hidden = self.reconstruction.hidden(self.center)
        columns = self.reconstruction.columns(x.shape[1])
        out = x.new_empty((x.shape[0], len(columns)))
        for j, (start, stop, choices) in enumerate(columns):
            repaired = x.clone()
            if choices is None:
                repaired[:, start:stop] = hidden[start:stop]
                guess = self.link(self(repaired)[0])[:, start:stop]
                repaired[:, start:stop] = guess * self.scale[start:stop] + self.center[start:stop]
                best = self.feature_errors(repaired).sum(dim=-1)
            else:
                best = total
                for value in choices.to(x):
                    repaired[:, start:stop] = value
                    best = torch.minimum(best, self.feature_errors(repaired).sum(dim=-1))
            out[:, j] = total - best
        return out


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
image_shape, channels, linear_path, seed, encoder, decoder
        As for :class:`AutoencoderModule`; the linear path gives the
        posterior mean.
    n_score_draws : int or None
        Number of fixed posterior draws of :meth:`elbo_per_sample`; None takes
        ``2 * clip(latent_dim, 8, 32)``.
    """

    def __init__(self, n_features, latent_dim, *args, n_score_draws=None, **kwargs):
        super().__init__(n_features, latent_dim, *args, **kwargs)
        self.n_score_draws = n_score_draws
        self.register_buffer("running_variance", torch.ones((), dtype=torch.float32))
        self.register_buffer("variance_updates", torch.zeros((), dtype=torch.long))
        # Floor of the decoder variance, set by set_linear_start.
        self.register_buffer("min_variance", torch.zeros((), dtype=torch.float32))

    def _init_code_head(self, width, latent_dim):
        # The mean and log-variance heads, on any encoder's output.
        self.code = layer(nn.Linear, width, 2 * latent_dim)

    @torch.no_grad()
    def set_linear_start(self, center, scale, encoder_weight=None, decoder_weight=None,
                         code_scale=1.0, logvar=None, noise_variance=None, min_variance=0.0):
        """As :meth:`AutoencoderModule.set_linear_start`, plus the starting
        posterior log-variance (the bias of its head), the decoder variance
        and its floor."""
        super().set_linear_start(center, scale, encoder_weight, decoder_weight, code_scale)
        self.min_variance.fill_(float(min_variance))
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

    def code_of(self, output):
        """The posterior mean in an output of :meth:`forward`."""
        return output[2]

    def variance(self):
        """Variance of the Gaussian decoder (a scalar shared by all features)."""
        return self.running_variance.clamp_min(self.min_variance)

    @torch.no_grad()
    def update_variance(self, residual, momentum=1.0 / _VARIANCE_WINDOW):
        """Move the decoder variance towards a batch's mean squared residual
        ``residual`` (internal space).

        A running mean over the first ``1 / momentum`` updates, then an
        exponential moving average.
        """
        rate = max(momentum, 1.0 / float(self.variance_updates + 1))
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
        jacobian = torch.log(self.scale).sum()
        return rec / len(draws) - jacobian - beta * self.kl_divergence(mu, logvar)
