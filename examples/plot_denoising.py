"""
Denoising
=========

A denoising autoencoder (``noise`` > 0) learns to map noisy digits to clean
ones. Fitted on noisy images only, on these 8x8 digits it removes more noise
than PCA (each row's title gives its error against the clean images); on
2,000 MNIST images the two are level, and scikit-learn's kernel PCA example
does better (the Benchmarks' "Denoising" table).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

X = load_digits().data / 16
X_train, X_test = train_test_split(X, random_state=0)
rng = np.random.default_rng(0)
noisy_train = X_train + rng.normal(scale=0.25, size=X_train.shape)
noisy_test = X_test + rng.normal(scale=0.25, size=X_test.shape)

pca = PCA(32).fit(noisy_train)
dae = AutoencoderTransformer(32, noise=0.25, random_state=0).fit(noisy_train)
rows = {"noisy": noisy_test,
        "PCA(32)": pca.inverse_transform(pca.transform(noisy_test)),
        "denoising AE": dae.inverse_transform(dae.transform(noisy_test))}

fig = plt.figure(figsize=(8, 3))
axes = fig.subplots(3, 8)
for r, (name, images) in enumerate(rows.items()):
    mse = np.mean((images - X_test) ** 2)
    for c in range(8):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].axis("off")
    axes[r, 0].set_title(f"{name} (MSE {mse:.4f})", fontsize=8, loc="left")
plt.show()
