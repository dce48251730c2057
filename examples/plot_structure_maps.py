"""
Visualisation maps: PCA, an autoencoder, and UMAP's structure
=============================================================

Three 2-d maps of digits' held-out rows: PCA, the default autoencoder, and an
autoencoder with ``structure="umap"`` whose ``transform`` places new rows
among UMAP's layout of the training rows (``transform_neighbors=15``). Each
title gives the 5-NN accuracy of the held-out codes (a classifier trained on
the training rows' codes) and their trustworthiness (10 neighbours).
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.2, stratify=y,
                                                    random_state=0)
models = {
    "PCA": PCA(2),
    "autoencoder": AutoencoderTransformer(2, random_state=0),
    "structure='umap', transform_neighbors=15": AutoencoderTransformer(
        2, structure="umap", transform_neighbors=15, random_state=0),
}
fig, axes = plt.subplots(1, 3, figsize=(13, 4.5))
for ax, (name, model) in zip(axes, models.items(), strict=True):
    model.fit(X_train)
    codes = model.transform(X_test)
    knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(codes, y_test)
    trust = trustworthiness(X_test, codes, n_neighbors=10)
    print(f"{name}: 5-NN accuracy {knn:.3f}, trustworthiness {trust:.3f}")
    ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set_title(f"{name}\n5-NN {knn:.3f}, trust {trust:.3f}", fontsize=9)
    ax.set(xticks=[], yticks=[])
fig.tight_layout()
plt.show()
