"""The variational autoencoder's module (this layer imports torch only)."""

import functools

import torch
from torch import nn

from ._modules import AutoencoderModule
from ._networks import layer, read_codes
from ._ordered import keep_prefix

__all__ = ["VAEModule"]

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
        inputs = self._inputs(self.normalize(x))
        mu, logvar = self._code_head(inputs).chunk(2, dim=-1)
        if self.linear_path:
            mu = mu + self.linear_encoder(inputs)
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

    def forward(self, x, generator=None, widths=None, codes=None):
        """Return ``(raw_reconstruction, z, mu, logvar)`` with ``z`` drawn
        from the posterior (from ``generator``) in training mode and equal to
        ``mu`` otherwise; ``widths``: each row decoded from a prefix of ``z``
        that wide; ``codes``: posterior means decoded in place of the rows'
        own (:func:`~skae._networks.read_codes`)."""
        mu, logvar = self.posterior(x)
        if self.training:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + eps * torch.exp(0.5 * logvar)
        else:
            z = mu
        read = z if codes is None else read_codes(z, mu, codes)
        return self.decode_raw(keep_prefix(read, widths)), z, mu, logvar

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
