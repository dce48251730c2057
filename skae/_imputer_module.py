"""The imputation network: an autoencoder that reads a row with holes
(torch only).

Missing entries are NaN. The network sees each row's observed values,
standardized per column, with zeros in the holes, next to the mask of what
is observed (so a value at the column mean and a hole differ), and outputs
every entry of the row in the standardized space. A linear map from the same
input runs beside the nonlinear encoder and decoder (the linear relations
between columns that regression imputers exploit are then one layer away),
and both start at zero: the untrained network imputes the column means.
"""

import numpy as np
import torch
from torch import nn

from ._loss import get_loss
from ._networks import WEIGHTED_LAYERS, _mlp, init_layer, layer

__all__ = ["ImputerModule", "standardization"]


def standardization(data, numeric=None):
    """``(center, scale)`` of the internal space of ``data`` (NaN where
    missing): each column's mean and standard deviation over its observed
    values (0 and 1 for a column without any, and for the columns that
    ``numeric`` marks False, a table's one-hot and boolean ones, whose 0/1
    values the network reads as they are)."""
    observed = ~np.isnan(data)
    count = np.maximum(observed.sum(axis=0), 1)
    center = np.where(observed, data, 0).sum(axis=0) / count
    scale = np.sqrt((np.where(observed, data - center, 0) ** 2).sum(axis=0) / count)
    scale = np.where(scale > 0, scale, 1.0)
    if numeric is not None:
        center, scale = np.where(numeric, center, 0.0), np.where(numeric, scale, 1.0)
    return center, scale


class ImputerModule(nn.Module):
    """Denoising autoencoder over rows with missing (NaN) entries.

    Parameters
    ----------
    n_features : int
        Width of a row.
    latent_dim : int
        Width of the code between the encoder and the decoder.
    hidden_layer_sizes : tuple of int
        Widths of the encoder's hidden layers (the decoder mirrors them).
    activation : str
        A key of :data:`skae._networks.ACTIVATIONS`.
    seed : int
        Seed of the initial weights (a generator of the module's own).
    loss : "mse" or list
        The loss of :func:`skae._loss.get_loss`: squared errors, or a
        table's (one per column kind), whose link maps the output to the
        data (probabilities of booleans and categories).

    The internal space is ``(x - center) / scale`` per column; ``center`` and
    ``scale`` are set by :meth:`set_standardization` (the identity until then).
    """

    def __init__(self, n_features, latent_dim, hidden_layer_sizes=(512,), activation="relu",
                 seed=0, loss="mse"):
        super().__init__()
        self.reconstruction = get_loss(loss)
        hidden = list(hidden_layer_sizes)
        n_inputs = 2 * n_features  # values, then the mask of observed entries
        self.encoder_body = _mlp([n_inputs, *hidden], activation)
        self.code = layer(nn.Linear, hidden[-1] if hidden else n_inputs, latent_dim)
        self.decoder = nn.Sequential(
            _mlp([latent_dim, *hidden[::-1]], activation),
            layer(nn.Linear, ([latent_dim, *hidden[::-1]])[-1], n_features))
        self.linear = layer(nn.Linear, n_inputs, n_features, bias=False)
        self.register_buffer("center", torch.zeros(n_features, dtype=torch.float32))
        self.register_buffer("scale", torch.ones(n_features, dtype=torch.float32))
        self.reset_parameters(torch.Generator().manual_seed(int(seed)))

    @torch.no_grad()
    def reset_parameters(self, generator):
        """torch's default initialization from ``generator``, then zeros for
        the output layers: the untrained network imputes the column means."""
        for part in self.modules():
            if isinstance(part, WEIGHTED_LAYERS):
                init_layer(part, generator)
        for part in (self.linear, self.decoder[-1]):
            nn.init.zeros_(part.weight)
            if part.bias is not None:
                nn.init.zeros_(part.bias)

    @torch.no_grad()
    def set_standardization(self, center, scale):
        """Set the per-column ``center`` and ``scale`` of the internal space."""
        self.center.copy_(torch.as_tensor(center, dtype=self.center.dtype))
        self.scale.copy_(torch.as_tensor(scale, dtype=self.scale.dtype))

    def normalize(self, x):
        """``x`` in the internal space (NaN stays NaN)."""
        return (x - self.center) / self.scale

    def forward(self, x):
        """``(prediction, code)`` for rows ``x`` whose missing entries are NaN:
        the prediction of every entry, in the internal space."""
        observed = ~torch.isnan(x)
        xn = torch.where(observed, self.normalize(x), torch.zeros((), dtype=x.dtype,
                                                                   device=x.device))
        inputs = torch.cat([xn, observed.to(x.dtype)], dim=-1)
        z = self.code(self.encoder_body(inputs))
        return self.decoder(z) + self.linear(inputs), z

    def fill(self, x):
        """``x`` with its NaN entries replaced by the network's predictions,
        in the data's units (observed entries are returned unchanged; a
        table's categories and booleans as probabilities)."""
        prediction = self.reconstruction.link(self.forward(x)[0]) * self.scale + self.center
        return torch.where(torch.isnan(x), prediction, x)
