"""
Reduction: 2-d codes against PCA
================================

The same digits, reduced to two dimensions by PCA and by an autoencoder fitted
on the raw pixel values (0-16, no scaler). The autoencoder's codes separate the
digits better; 5-NN accuracy on held-out rows measures it.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

fig = plt.figure(figsize=(9, 4))
for ax, model in zip(fig.subplots(1, 2),
                     [PCA(2), AutoencoderTransformer(2, random_state=0)], strict=True):
    Z_train = model.fit_transform(X_train)
    Z_test = model.transform(X_test)
    accuracy = KNeighborsClassifier(5).fit(Z_train, y_train).score(Z_test, y_test)
    ax.scatter(Z_test[:, 0], Z_test[:, 1], c=y_test, cmap="tab10", s=6)
    ax.set(title=f"{type(model).__name__}: 5-NN accuracy {accuracy:.2f}",
           xticks=[], yticks=[])
plt.show()
