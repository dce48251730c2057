"""The skorch net of the variational autoencoder."""

import torch

from ._net import AutoencoderNet

__all__ = ["VAENet"]


class VAENet(AutoencoderNet):
    """skorch net training a :class:`~skae._modules.VAEModule` on the
    negative ELBO (reconstruction log-likelihood plus ``beta`` times KL),
    averaged over the batch and summed over features. A Gaussian decoder's
    variance follows the training batches' mean squared residual."""

    def __init__(self, module, *args, beta=1.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.beta = beta

    def infer(self, x, **fit_params):
        """Forward pass; in training mode the posterior draws come from the
        net's own generator."""
        if self.module_.training:
            fit_params = {**fit_params, "generator": self.sample_generator_}
        return super().infer(x, **fit_params)

    def before_loss(self, y_pred, target):
        """Move a Gaussian decoder's variance to this batch's mean squared
        residual (its closed-form optimum; over all processes' rows in a
        data-parallel fit)."""
        if not self.loss.learns_variance:
            return
        with torch.no_grad():
            squared = self.loss.squared_residuals(y_pred[0], self.module_.normalize(target))
            residual = squared.mean()
            if getattr(self, "world_", 1) > 1:
                both = torch.stack([squared.sum(), torch.tensor(float(squared.numel()),
                                                                device=squared.device)])
                torch.distributed.all_reduce(both)
                residual = both[0] / both[1]
        self.module_.update_variance(residual)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        raw, _, mu, logvar = y_pred
        ll = self.module_.log_likelihood(raw, self.module_.normalize(y_true))
        kl = self.module_.kl_divergence(mu, logvar)
        return (self.beta * kl - ll).mean()

    def score_batch(self, module, X):
        """Per-sample ELBO (nats) with ``beta`` = 1."""
        return module.elbo_per_sample(X)
