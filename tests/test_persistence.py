"""skae.save / skae.load: round trips, and files that must be refused."""

import json
import os
import pickle

import numpy as np
import pytest
import torch
from estimator_outputs import outputs

import skae
from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, random_state=0)
CONV = dict(architecture="conv", image_shape=(8, 8), conv_channels=(4, 8), max_epochs=3,
            random_state=0)
CASES = {
    "ae": lambda: AutoencoderTransformer(3, **FAST),
    "ae-bce-denoising": lambda: AutoencoderTransformer(3, loss="bce", noise=0.1, **FAST),
    "vae": lambda: VAETransformer(2, **FAST),
    "ae-conv": lambda: AutoencoderTransformer(4, **CONV),
    "vae-conv": lambda: VAETransformer(2, loss="bce", **CONV),
    "detector-ae": lambda: AutoencoderOutlierDetector(AutoencoderTransformer(3, **FAST),
                                                      contamination=0.1),
    "detector-vae-conv": lambda: AutoencoderOutlierDetector(VAETransformer(8, **CONV)),
}


def _plain_params(estimator):
    """Parameters, nested estimators' included, without the estimator objects."""
    return {key: value for key, value in estimator.get_params().items()
            if not hasattr(value, "get_params")}


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_is_identical(case, small_X, tmp_path):
    est = CASES[case]().fit(small_X)
    path = tmp_path / "model.skae"
    skae.save(est, path)
    loaded = skae.load(path)
    assert type(loaded) is type(est)
    assert _plain_params(loaded) == _plain_params(est)
    for key, value in outputs(est, small_X).items():
        np.testing.assert_array_equal(outputs(loaded, small_X)[key], value, err_msg=key)
    assert getattr(loaded, "offset_", None) == getattr(est, "offset_", None)
    loaded, est = getattr(loaded, "estimator_", loaded), getattr(est, "estimator_", est)
    for key in ("n_features_in_", "n_iter_", "device_"):
        assert getattr(loaded, key) == getattr(est, key)
    np.testing.assert_array_equal(loaded.loss_curve_, est.loss_curve_)
    assert len(loaded.net_.history) == len(est.net_.history)


def test_round_trip_keeps_feature_names_and_can_refit(small_X, tmp_path):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(small_X, columns=[f"p{i}" for i in range(64)])
    est = AutoencoderTransformer(2, **FAST).fit(X)
    skae.save(est, tmp_path / "m.skae")
    loaded = skae.load(tmp_path / "m.skae")
    np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    np.testing.assert_array_equal(loaded.fit(X).transform(X), est.transform(X))


def test_model_saved_on_cuda_loads_on_cpu(small_X, tmp_path):
    """A file whose net was on CUDA loads on a machine without CUDA (the
    weights are saved from the CPU; only the recorded device says cuda)."""
    if torch.cuda.is_available():
        pytest.skip("tests/test_cuda.py covers this with a real GPU")
    est = AutoencoderTransformer(2, **FAST).fit(small_X)
    path = tmp_path / "m.skae"
    skae.save(est, path)
    document = torch.load(path, weights_only=True)
    config = json.loads(document["net_config"])
    document["net_config"] = json.dumps({**config, "device": "cuda"})
    torch.save(document, path)
    loaded = skae.load(path)
    assert loaded.device_ == "cpu"
    np.testing.assert_array_equal(loaded.transform(small_X), est.transform(small_X))


class _Payload:
    """Would create a file if it were ever unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_file_with_code_is_refused_without_running_it(small_X, tmp_path):
    est = AutoencoderTransformer(2, **FAST).fit(small_X)
    path, marker = tmp_path / "m.skae", tmp_path / "ran"
    skae.save(est, path)
    document = torch.load(path, weights_only=True)
    document["history"] = _Payload(str(marker))
    torch.save(document, path)
    with pytest.raises(ValueError, match="objects other than tensors and plain data"):
        skae.load(path)
    assert not marker.exists()
    with open(tmp_path / "p.pkl", "wb") as f:
        pickle.dump(_Payload(str(marker)), f)
    with pytest.raises(ValueError, match="not in PyTorch's zip format"):
        skae.load(tmp_path / "p.pkl")
    assert not marker.exists()


@pytest.mark.parametrize("tamper, match", [
    (lambda d: d.update(estimator="os.system"), "does not describe a skae model"),
    (lambda d: d.update(params=json.dumps({"latent_dim": -3})), "does not describe"),
    (lambda d: d["weights"].popitem(), "does not describe a skae model"),
    (lambda d: d.update(format="other"), "no skae header"),
    (lambda d: d.update(format_version=99), "file format 99"),
])
def test_altered_file_is_refused(small_X, tmp_path, tamper, match):
    path = tmp_path / "m.skae"
    skae.save(AutoencoderTransformer(2, **FAST).fit(small_X), path)
    document = torch.load(path, weights_only=True)
    tamper(document)
    torch.save(document, path)
    with pytest.raises(ValueError, match=match):
        skae.load(path)


def test_a_later_release_s_file_is_refused_an_earlier_one_loads(small_X, tmp_path):
    """The compatibility rule: a file loads in the release that wrote it and
    every later one that reads its format; an earlier release refuses it."""
    path = tmp_path / "m.skae"
    model = AutoencoderTransformer(2, **FAST).fit(small_X)
    skae.save(model, path)
    document = torch.load(path, weights_only=True)
    document["skae_version"] = "9.3.0"
    torch.save(document, path)
    with pytest.raises(ValueError, match=r"saved by skae 9\.3\.0; this is skae .* refit"):
        skae.load(path)
    document["skae_version"] = "0.1.0"  # what files saved before 0.2.0 record
    torch.save(document, path)
    np.testing.assert_array_equal(skae.load(path).transform(small_X), model.transform(small_X))


def test_save_needs_a_fitted_skae_estimator(tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        skae.save(AutoencoderTransformer(), tmp_path / "m.skae")
    with pytest.raises(TypeError, match="skae's estimators"):
        skae.save(PCA(), tmp_path / "m.skae")


@pytest.mark.parametrize("sparse", [False, True])
def test_transform_neighbors_keeps_search_points_and_codes_not_the_rows(sparse, tmp_path):
    import scipy.sparse as sp

    X = np.random.default_rng(0).random((2000, 300)).astype(np.float32)
    if sparse:  # searched as it is: the matrix's own parts are kept
        X = sp.random(2000, 300, density=0.02, format="csr", random_state=0, dtype=np.float32)
    est = AutoencoderTransformer(2, transform_neighbors=5, **FAST).fit(X)
    new = X[:50]
    path = tmp_path / "model.skae"
    skae.save(est, path)
    loaded = skae.load(path)
    np.testing.assert_array_equal(loaded.transform(new), est.transform(new))
    rows_bytes = 2000 * 300 * 4
    if sparse:
        assert sp.issparse(est._neighbour_points)
        assert os.path.getsize(path) < rows_bytes / 4
    else:  # wide dense rows: 50 values a row (and the projection), not the rows
        assert est._neighbour_points.shape == (2000, 50)
        assert os.path.getsize(path) < rows_bytes / 2
        assert len(pickle.dumps(est)) < rows_bytes / 2
        assert not any(value is X for value in vars(est).values())


@pytest.mark.parametrize("settings", [
    dict(add_indicator=True), dict(keep_empty_features=True), dict(missing_values=-1.0)])
def test_the_imputer_round_trips(small_X, tmp_path, settings):
    from skae import AutoencoderImputer
    from skae.datasets import hide_at_random

    X, hidden = hide_at_random(small_X, 0.2, random_state=0)
    X[:, 5] = np.nan  # a column without any observed value
    if settings.get("missing_values") == -1.0:
        X = np.where(np.isnan(X), -1.0, X)
    est = AutoencoderImputer(latent_dim=8, **FAST, **settings).fit(X)
    skae.save(est, tmp_path / "m.skae")
    loaded = skae.load(tmp_path / "m.skae")
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    np.testing.assert_array_equal(loaded.get_feature_names_out(), est.get_feature_names_out())
    params, saved = loaded.get_params(), est.get_params()
    np.testing.assert_equal(params.pop("missing_values"), saved.pop("missing_values"))
    assert params == saved


def test_a_file_of_the_previous_format_still_loads(small_X, tmp_path):
    path = tmp_path / "m.skae"
    est = AutoencoderTransformer(2, **FAST).fit(small_X)
    skae.save(est, path)
    document = torch.load(path, weights_only=True)
    document["format_version"] = 3  # what skae wrote before the imputer was savable
    del document["state"]
    torch.save(document, path)
    np.testing.assert_array_equal(skae.load(path).transform(small_X), est.transform(small_X))
