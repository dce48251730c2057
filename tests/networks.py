"""Users' networks for tests that pass ``encoder=`` / ``decoder=``."""

from torch import nn


class TanhEncoder(nn.Module):
    """A small fully connected encoder with a tanh layer."""

    def __init__(self, n_features, latent_dim):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, 16), nn.Tanh(),
                                    nn.Linear(16, latent_dim))

    def forward(self, x):
        return self.layers(x)
