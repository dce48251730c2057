"""Convolutional encoder/decoder over flattened image rows."""

import pickle

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

CONV = dict(architecture="conv", image_shape=(8, 8), conv_channels=(16, 32), random_state=0)


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_conv_transformers(Est, small_X):
    est = Est(latent_dim=3, max_epochs=5, **CONV).fit(small_X)
    Z = est.transform(small_X)
    assert Z.shape == (300, 3)
    assert est.inverse_transform(Z).shape == small_X.shape
    np.testing.assert_array_equal(Z, est.transform(small_X))
    single = np.vstack([est.transform(small_X[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(single, Z[:5], rtol=1e-12, atol=1e-12)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(small_X), Z)
    assert any(type(m).__name__ == "Conv2d" for m in est.net_.module_.modules())


def test_conv_detector_and_channel_image_shape(small_X):
    conv = AutoencoderTransformer(8, **{**CONV, "max_epochs": 5, "image_shape": (1, 8, 8)})
    det = AutoencoderOutlierDetector(conv, contamination=0.1).fit(small_X)
    assert np.mean(det.predict(small_X) == -1) == pytest.approx(0.1, abs=0.01)


@pytest.mark.quality
def test_conv_autoencoder_beats_pca_on_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    ae = AutoencoderTransformer(latent_dim=2, **CONV).fit(X_train)
    pca = PCA(2).fit(X_train)

    def knn(model):
        return KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(
            model.transform(X_test), y_test)

    assert knn(ae) >= knn(pca) + 0.10


@pytest.mark.parametrize(
    "params, message",
    [
        ({"image_shape": None}, "needs image_shape"),
        ({"image_shape": (7, 7)}, r"image_shape \(7, 7\) has 49 values but X has 64"),
        ({"image_shape": (8, 8, 1, 1)}, "must be \\(height, width\\)"),
        ({"image_shape": (8, -8)}, "positive integers"),
        ({"conv_channels": ()}, "conv_channels must be"),
        ({"conv_channels": (16, 0)}, "conv_channels must be"),
    ],
)
def test_bad_image_shape_or_channels(small_X, params, message):
    with pytest.raises(ValueError, match=message):
        AutoencoderTransformer(max_epochs=1, **{**CONV, **params}).fit(small_X)
