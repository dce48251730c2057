"""Default estimators against PCA on small real data (issue #2's targets).

Default parameters apart from ``latent_dim`` and ``random_state``; the margins
are the issue's. Timings are not asserted here: `python -m skae.compare`
prints them.
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, VAETransformer

pytestmark = [pytest.mark.quality, pytest.mark.xdist_group("quality")]


def knn_accuracy(model, X_train, X_test, y_train, y_test):
    """5-NN accuracy on test codes of a model fitted on the training rows."""
    Z_train = model.fit_transform(X_train)
    knn = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y_train)
    return knn.score(model.transform(X_test), y_test)


def reconstruction_mse(model, X_train, X_test):
    """Mean squared test reconstruction error per feature."""
    model.fit(X_train)
    return float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))


def test_autoencoder_2d_codes_beat_pca_for_knn(digits_split):
    pca = knn_accuracy(PCA(2), *digits_split)
    ae = knn_accuracy(AutoencoderTransformer(latent_dim=2, random_state=0), *digits_split)
    assert pca == pytest.approx(0.62, abs=0.02)
    assert ae >= pca + 0.10


def test_autoencoder_10d_reconstructs_better_than_pca(digits_split):
    X_train, X_test = digits_split[:2]
    pca = reconstruction_mse(PCA(10), X_train, X_test)
    ae = reconstruction_mse(AutoencoderTransformer(latent_dim=10, random_state=0), X_train, X_test)
    assert pca == pytest.approx(0.020, abs=0.002)
    assert ae < pca


def test_vae_2d_codes_are_informative(digits_split):
    assert knn_accuracy(VAETransformer(latent_dim=2, random_state=0), *digits_split) >= 0.60


@pytest.fixture(params=[load_breast_cancer, load_wine], ids=["breast_cancer", "wine"])
def tabular(request):
    return request.param(return_X_y=True)


def test_tabular_reconstruction_close_to_pca(tabular):
    X, y = tabular
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    pca = reconstruction_mse(PCA(5), X_train, X_test)
    ae = reconstruction_mse(AutoencoderTransformer(latent_dim=5, random_state=0), X_train, X_test)
    assert ae <= 1.25 * pca


def test_tabular_pipeline_accuracy_close_to_pca(tabular):
    X, y = tabular
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

    def accuracy(reducer):
        pipe = make_pipeline(StandardScaler(), reducer, LogisticRegression(max_iter=1000))
        return cross_val_score(pipe, X, y, cv=cv).mean()

    pca = accuracy(PCA(5))
    ae = accuracy(AutoencoderTransformer(latent_dim=5, random_state=0))
    assert ae >= pca - 0.02
