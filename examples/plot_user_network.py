"""
Your own network: a 1-D convolutional encoder for sequences
===========================================================

``encoder=`` takes any factory ``(n_features_in, latent_dim) -> torch.nn.Module``
(here a module class); skae still gives the training loop, early stopping,
seeding, Pipelines, grid searches and ``skae.save``. Each row is a sequence of
128 values holding one noisy pulse at a random position with a random width:
two numbers describe a row, yet no linear 2-d projection captures them. The
decoder is skae's default MLP.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from torch import nn

from skae import AutoencoderTransformer

rng = np.random.default_rng(0)
n, length = 1200, 128
position = rng.uniform(0, length, n)
width = rng.uniform(3, 12, n)
X = (np.exp(-0.5 * ((np.arange(length) - position[:, None]) / width[:, None]) ** 2)
     + 0.02 * rng.standard_normal((n, length)))
X_train, X_test, pos_train, pos_test = train_test_split(X, position, random_state=0)


class ConvEncoder(nn.Module):
    """Two stride-2 1-D convolutions, then a linear map to the code."""

    def __init__(self, n_features, latent_dim):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Unflatten(1, (1, n_features)),  # rows -> (batch, 1 channel, length)
            nn.Conv1d(1, 16, 7, stride=2, padding=3), nn.ReLU(),
            nn.Conv1d(16, 32, 7, stride=2, padding=3), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * ((n_features + 3) // 4), latent_dim))

    def forward(self, x):
        return self.layers(x)


models = {"PCA(2)": PCA(2),
          "AutoencoderTransformer(2, encoder=ConvEncoder)": AutoencoderTransformer(
              2, encoder=ConvEncoder, max_epochs=60, random_state=0)}
fig = plt.figure(figsize=(9, 4))
for ax, (name, model) in zip(fig.subplots(1, 2), models.items(), strict=True):
    codes = model.fit(X_train).transform(X_test)
    error = np.mean((model.inverse_transform(codes) - X_test) ** 2)
    ax.scatter(codes[:, 0], codes[:, 1], c=pos_test, s=6, cmap="viridis")
    ax.set_title(f"{name}\ntest MSE {error:.4f}", fontsize=9)
    print(f"{name}: test MSE {error:.4f}")
fig.suptitle("2-d codes of pulse sequences, coloured by the pulse's position")
plt.show()
