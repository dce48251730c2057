"""AutoencoderOutlierDetector: a meta-estimator around any skae transformer."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

FAST = dict(hidden_layer_sizes=(32,), max_epochs=30, random_state=0)
MODELS = {"ae": lambda **kw: AutoencoderTransformer(8, **{**FAST, **kw}),
          "vae": lambda **kw: VAETransformer(8, **{**FAST, **kw})}


@pytest.mark.parametrize("model", list(MODELS))
def test_outlier_api_and_contamination(small_X, model):
    det = AutoencoderOutlierDetector(MODELS[model](), contamination=0.1).fit(small_X)
    labels = det.predict(small_X)
    assert set(np.unique(labels)) == {-1, 1}
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=0.01)
    decision = det.decision_function(small_X)
    np.testing.assert_allclose(decision, det.score_samples(small_X) - det.offset_)
    np.testing.assert_array_equal(labels, np.where(decision < 0, -1, 1))
    np.testing.assert_array_equal(
        AutoencoderOutlierDetector(MODELS[model](), contamination=0.1).fit_predict(small_X),
        labels)


@pytest.mark.parametrize("model", list(MODELS))
def test_scores_are_the_wrapped_estimators_own(small_X, model):
    estimator = MODELS[model](max_epochs=3)
    det = AutoencoderOutlierDetector(estimator).fit(small_X)
    assert not hasattr(estimator, "net_")  # cloned: the parameter stays unfitted
    assert type(det.estimator_) is type(estimator)
    np.testing.assert_array_equal(det.score_samples(small_X),
                                  det.estimator_.score_samples(small_X))
    fitted_alone = MODELS[model](max_epochs=3).fit(small_X)
    np.testing.assert_array_equal(det.score_samples(small_X),
                                  fitted_alone.score_samples(small_X))
    assert det.n_features_in_ == 64


def test_default_estimator_is_an_8d_autoencoder(small_X):
    det = AutoencoderOutlierDetector()
    assert det.get_params()["estimator"] is None
    estimator = det._new_estimator()
    assert type(estimator) is AutoencoderTransformer and estimator.latent_dim == 8


@pytest.mark.parametrize("model", list(MODELS))
def test_detects_off_distribution_samples(digits_split, model):
    X_train, X_test = digits_split[:2]
    det = AutoencoderOutlierDetector(MODELS[model]()).fit(X_train)
    noise = np.random.default_rng(0).random((100, 64))
    assert np.mean(det.predict(noise) == -1) >= 0.95
    assert np.mean(det.predict(X_test) == 1) >= 0.85


def test_feature_errors_point_at_the_corrupted_features(digits_split):
    X_train, X_test = digits_split[:2]
    det = AutoencoderOutlierDetector(MODELS["ae"]()).fit(X_train)
    errors = det.feature_errors(X_test)
    assert errors.shape == X_test.shape
    np.testing.assert_allclose(-errors.mean(axis=1), det.score_samples(X_test), rtol=1e-6)
    corrupted = X_test.copy()
    corrupted[:, [0, 7]] = 1.0  # ink in two corners that are blank in every digit
    top2 = np.sort(np.argsort(det.feature_errors(corrupted), axis=1)[:, -2:], axis=1)
    assert np.mean(np.all(top2 == [0, 7], axis=1)) >= 0.95


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_repair_is_the_fall_of_the_total_error_when_one_feature_is_predicted(small_X, Est):
    """method="repair", from its definition through the public API: hide a
    feature (at the internal space's centre), predict it from the others,
    put the prediction in, and see how much the sample's total error falls."""
    model = Est(4, **{**FAST, "max_epochs": 5}).fit(small_X)
    X = small_X[:20]
    repair = model.feature_errors(X, method="repair")
    assert repair.shape == X.shape and repair.dtype == X.dtype
    center = model.net_.module_.center.numpy().astype(X.dtype)
    total = model.feature_errors(X).sum(axis=1)
    for j in (10, 36):  # two features that vary among digits
        hidden = X.copy()
        hidden[:, j] = center[j]
        repaired = X.copy()
        repaired[:, j] = model.inverse_transform(model.transform(hidden))[:, j]
        expected = total - model.feature_errors(repaired).sum(axis=1)
        np.testing.assert_allclose(repair[:, j], expected, rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="method must be one of"):
        model.feature_errors(X, method="shap")


def test_repair_names_the_one_corrupted_feature(digits_split):
    """One pixel inked where digits have none: the repair points at it."""
    X_train, X_test = digits_split[:2]
    det = AutoencoderOutlierDetector(MODELS["ae"]()).fit(X_train)
    corrupted = X_test[:60].copy()
    rng = np.random.default_rng(0)
    blank = np.flatnonzero(X_train.max(axis=0) < 0.3)
    column = blank[rng.integers(len(blank), size=len(corrupted))]
    corrupted[np.arange(len(corrupted)), column] = 1.0
    repair = det.feature_errors(corrupted, method="repair").argmax(axis=1)
    assert np.mean(repair == column) >= 0.95


def _auc(detector, X, y):
    """Area under the ROC curve of the normality scores (y: 1 for normal)."""
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y, detector.score_samples(X))


@pytest.mark.parametrize("model", ["ae", "vae", "conv"])
def test_grid_search_over_the_wrapped_latent_dim(small_X, model):
    conv = dict(architecture="conv", image_shape=(8, 8), conv_channels=(4,))
    estimator = (AutoencoderTransformer(**{**FAST, "max_epochs": 3}, **conv) if model == "conv"
                 else MODELS[model](max_epochs=3))
    noise = np.random.default_rng(0).random((60, 64))
    X = np.vstack([small_X, noise])
    y = np.r_[np.ones(len(small_X)), np.zeros(len(noise))]
    search = GridSearchCV(AutoencoderOutlierDetector(estimator),
                          {"estimator__latent_dim": [2, 4]}, scoring=_auc,
                          cv=StratifiedKFold(2, shuffle=True, random_state=0)).fit(X, y)
    assert search.best_params_["estimator__latent_dim"] in (2, 4)
    assert search.best_estimator_.estimator_.latent_dim == search.best_params_[
        "estimator__latent_dim"]
    assert np.all(search.cv_results_["mean_test_score"] > 0.8)  # noise is easy to tell


@pytest.mark.parametrize("contamination", [0.0, 0.6, -0.1, "high"])
def test_contamination_out_of_range_is_rejected(small_X, contamination):
    with pytest.raises(InvalidParameterError, match="contamination"):
        AutoencoderOutlierDetector(contamination=contamination).fit(small_X)


def test_estimator_without_score_samples_is_rejected_and_unfitted_raises(small_X):
    from sklearn.decomposition import TruncatedSVD

    with pytest.raises(InvalidParameterError, match="estimator"):
        AutoencoderOutlierDetector(TruncatedSVD()).fit(small_X)
    for method in ("predict", "decision_function", "score_samples", "feature_errors"):
        with pytest.raises(NotFittedError):
            getattr(AutoencoderOutlierDetector(), method)(small_X)


def test_wrapped_estimators_bad_parameters_are_its_own_errors(small_X):
    with pytest.raises(InvalidParameterError, match="latent_dim"):
        AutoencoderOutlierDetector(AutoencoderTransformer(latent_dim=0)).fit(small_X)
