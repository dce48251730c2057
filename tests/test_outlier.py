"""AutoencoderOutlierDetector: the outlier API and what it detects."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderOutlierDetector

FAST = dict(hidden_layer_sizes=(32,), max_epochs=30, random_state=0)


@pytest.mark.parametrize("model", ["ae", "vae"])
def test_outlier_api_and_contamination(small_X, model):
    det = AutoencoderOutlierDetector(model, contamination=0.1, **FAST).fit(small_X)
    labels = det.predict(small_X)
    assert set(np.unique(labels)) == {-1, 1}
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=0.01)
    decision = det.decision_function(small_X)
    np.testing.assert_allclose(decision, det.score_samples(small_X) - det.offset_)
    np.testing.assert_array_equal(labels, np.where(decision < 0, -1, 1))
    np.testing.assert_array_equal(
        AutoencoderOutlierDetector(model, contamination=0.1, **FAST).fit_predict(small_X),
        labels)


@pytest.mark.parametrize("model", ["ae", "vae"])
def test_detects_off_distribution_samples(digits_split, model):
    X_train, X_test = digits_split[:2]
    det = AutoencoderOutlierDetector(model, **FAST).fit(X_train)
    noise = np.random.default_rng(0).random((100, 64))
    assert np.mean(det.predict(noise) == -1) >= 0.95
    assert np.mean(det.predict(X_test) == 1) >= 0.85


def test_feature_errors_point_at_the_corrupted_features(digits_split):
    X_train, X_test = digits_split[:2]
    det = AutoencoderOutlierDetector(**FAST).fit(X_train)
    errors = det.feature_errors(X_test)
    assert errors.shape == X_test.shape
    np.testing.assert_allclose(-errors.mean(axis=1), det.score_samples(X_test), rtol=1e-6)
    corrupted = X_test.copy()
    corrupted[:, [0, 7]] = 1.0  # ink in two corners that are blank in every digit
    top2 = np.sort(np.argsort(det.feature_errors(corrupted), axis=1)[:, -2:], axis=1)
    assert np.mean(np.all(top2 == [0, 7], axis=1)) >= 0.95


@pytest.mark.parametrize("contamination", [0.0, 0.6, -0.1, "high"])
def test_contamination_out_of_range_is_rejected(small_X, contamination):
    with pytest.raises(InvalidParameterError, match="contamination"):
        AutoencoderOutlierDetector(contamination=contamination).fit(small_X)


def test_bad_model_and_unfitted(small_X):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(InvalidParameterError, match="model"):
        AutoencoderOutlierDetector("pca").fit(small_X)
    for method in ("predict", "decision_function", "score_samples", "feature_errors"):
        with pytest.raises(NotFittedError):
            getattr(AutoencoderOutlierDetector(), method)(small_X)
