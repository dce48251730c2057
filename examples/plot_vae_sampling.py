"""
VAE sampling
============

A variational autoencoder is a generative model: ``sample`` decodes draws from
the prior into new images.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skae import VAETransformer

X = load_digits().data / 16
vae = VAETransformer(latent_dim=4, loss="bce", random_state=0).fit(X)
images = vae.sample(32, random_state=0)

fig = plt.figure(figsize=(6, 3))
for ax, image in zip(fig.subplots(4, 8).flat, images, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
plt.show()
