"""Reconstruction losses: each knows its output link, its value, its
likelihood, the data it accepts and the units it reports in.

In the manner of ``sklearn._loss``: the public ``loss="mse"`` / ``"bce"``
strings name an object from :data:`LOSSES`, and the networks, the skorch nets
and the estimators ask that object instead of comparing strings.
"""

import math

import numpy as np
import torch
from torch import nn

__all__ = ["LOSSES", "BinaryCrossEntropy", "SquaredError", "get_loss"]

_LOG_2PI = math.log(2.0 * math.pi)


class SquaredError:
    """Squared error with an identity link: a Gaussian decoder.

    Trains in the centred, scaled internal space (from PCA's solution), so it
    accepts any finite data; errors are reported in the data's squared units.
    """

    name = "mse"
    #: Whether the network trains on centred, scaled data from a linear start.
    trains_in_internal_space = True
    #: Whether a VAE learns the decoder's variance for this likelihood.
    learns_variance = True

    def link(self, raw):
        """Decoder output to the internal data space."""
        return raw

    def mean(self, raw, target):
        """Mean loss over a batch (the training objective)."""
        return nn.functional.mse_loss(raw, target)

    def per_element(self, raw, target):
        """Loss of each element."""
        return (raw - target) ** 2

    def log_likelihood(self, raw, target, variance):
        """log p(target | raw) per row, summed over features, for a Gaussian
        with the given (scalar) variance."""
        return -0.5 * (((target - raw) ** 2) / variance + torch.log(variance)
                       + _LOG_2PI).sum(dim=-1)

    def check_domain(self, X):
        """Any finite data is accepted."""

    def to_data_units(self, error, scale):
        """Errors of the internal space in the data's (squared) units."""
        return error * scale**2


class BinaryCrossEntropy:
    """Binary cross-entropy on logits with a sigmoid link: a Bernoulli decoder,
    for data in [0, 1] such as pixel intensities, trained as it is."""

    name = "bce"
    trains_in_internal_space = False
    learns_variance = False

    def link(self, raw):
        return torch.sigmoid(raw)

    def mean(self, raw, target):
        return nn.functional.binary_cross_entropy_with_logits(raw, target)

    def per_element(self, raw, target):
        return nn.functional.binary_cross_entropy_with_logits(raw, target, reduction="none")

    def log_likelihood(self, raw, target, variance=None):
        """log p(target | raw) per row, summed over features (Bernoulli)."""
        return -self.per_element(raw, target).sum(dim=-1)

    def check_domain(self, X):
        """X must lie in [0, 1]."""
        low, high = np.min(X), np.max(X)
        if low < 0 or high > 1:
            raise ValueError(
                f"loss='bce' needs X in [0, 1] (got values in [{low:.4g}, {high:.4g}]); "
                "rescale it, e.g. with MinMaxScaler, or use loss='mse'."
            )

    def to_data_units(self, error, scale):
        return error


#: The losses by the names the estimators' ``loss`` parameter takes.
LOSSES = {loss.name: loss for loss in (SquaredError(), BinaryCrossEntropy())}


def get_loss(name):
    """The loss object named ``name`` ("mse" or "bce")."""
    return LOSSES[name]
