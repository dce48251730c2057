"""Raw, unscaled data: default estimators reconstruct at least as well as PCA.

Each case: held-out 25%, reconstruction MSE in the data's own units, median
over seeds 0-2 (seed of the split and of the model), default parameters
apart from ``latent_dim``. ``benchmarks/bench_raw_data.py`` prints the table.
"""

from functools import cache

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

pytestmark = [pytest.mark.quality, pytest.mark.xdist_group("raw")]

SEEDS = (0, 1, 2)


def _raw(load, **kwargs):
    return lambda: load(return_X_y=True, **kwargs)[0]


def _standardized(load):
    return lambda: StandardScaler().fit_transform(load(return_X_y=True)[0])


DATA = {
    "breast_cancer": _raw(load_breast_cancer),
    "wine": _raw(load_wine),
    "diabetes": _raw(load_diabetes, scaled=False),
    "iris": _raw(load_iris),
    "breast_cancer_std": _standardized(load_breast_cancer),
    "wine_std": _standardized(load_wine),
    "digits": _raw(load_digits),
}


def held_out_mse(make, X, seed):
    """Test reconstruction MSE per feature of ``make(seed)`` on a 75/25 split."""
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    model = make(seed).fit(X_train)
    return float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))


@cache
def median_mse(Est, name, latent_dim):
    """Median over seeds of the method's held-out MSE on ``DATA[name]``, and PCA's."""
    X = DATA[name]()
    ours = [held_out_mse(lambda s: Est(latent_dim, random_state=s), X, s) for s in SEEDS]
    pca = [held_out_mse(lambda s: PCA(latent_dim, random_state=s), X, s) for s in SEEDS]
    return float(np.median(ours)), float(np.median(pca))


@pytest.mark.parametrize("name", list(DATA))
@pytest.mark.parametrize("latent_dim", [2, 5])
def test_autoencoder_reconstructs_raw_data_as_well_as_pca(name, latent_dim):
    if latent_dim >= DATA[name]().shape[1]:
        pytest.skip("PCA needs latent_dim < n_features")
    ae, pca = median_mse(AutoencoderTransformer, name, latent_dim)
    assert ae <= 1.05 * pca


def test_autoencoder_keeps_its_nonlinear_gain_on_raw_digits():
    ae, pca = median_mse(AutoencoderTransformer, "digits", 5)
    assert ae <= 0.8 * pca


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "digits"])
def test_vae_reconstructs_raw_data_close_to_pca(name):
    vae, pca = median_mse(VAETransformer, name, 5)
    assert vae <= 1.5 * pca


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_large_offset_and_scale_train_to_finite_codes(Est):
    X = load_wine(return_X_y=True)[0] * 1e4 + 1e6
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    model = Est(5, random_state=0).fit(X_train)
    codes = model.transform(X_test)
    assert np.isfinite(codes).all()
    assert np.isfinite(model.score_samples(X_test)).all()
    mse = np.mean((model.inverse_transform(codes) - X_test) ** 2)
    assert mse <= np.mean((X_train.mean(axis=0) - X_test) ** 2)


@pytest.mark.parametrize("load", [load_breast_cancer, load_wine], ids=["breast_cancer", "wine"])
def test_pipeline_without_scaler_classifies_as_well_as_pca(load):
    X, y = load(return_X_y=True)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

    def accuracy(reducer):
        pipe = make_pipeline(reducer, LogisticRegression(max_iter=5000))
        return cross_val_score(pipe, X, y, cv=cv).mean()

    assert accuracy(AutoencoderTransformer(5, random_state=0)) >= accuracy(PCA(5)) - 0.02


@pytest.mark.parametrize("model", [AutoencoderTransformer, VAETransformer])
def test_outlier_scores_on_raw_data_rank_like_pca_error(model):
    X, y = load_breast_cancer(return_X_y=True)
    benign, malignant = X[y == 1], X[y == 0]
    train, test_benign = train_test_split(benign, test_size=0.3, random_state=0)
    X_test = np.vstack([test_benign, malignant])
    is_outlier = np.r_[np.zeros(len(test_benign)), np.ones(len(malignant))]
    pca = PCA(8).fit(train)
    pca_error = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2, axis=1)
    detector = AutoencoderOutlierDetector(model(8, random_state=0)).fit(train)
    auc = roc_auc_score(is_outlier, -detector.score_samples(X_test))
    assert auc >= roc_auc_score(is_outlier, pca_error) - 0.02
