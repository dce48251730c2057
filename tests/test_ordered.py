"""Ordered codes: every prefix is a model (``truncate``), what each code
dimension explains on held-out rows (``explained_variance_ratio_``), and
``latent_dim`` as a fraction of the variance, as ``PCA(0.95)``."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

import skae
from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer
from skae._ordered import FULL_WIDTH_SHARE, prefix_widths

FAST = dict(hidden_layer_sizes=(32,), max_epochs=8, random_state=0)


@pytest.fixture(scope="module")
def ordered(small_X):
    return AutoencoderTransformer(6, ordered=True, **FAST).fit(small_X)


def _held_out(model, X):
    """The rows a fitted model measured its explained variance on."""
    return model.net_.train_split(X)[1].data.numpy()


def _r2(reconstruction, X):
    return 1 - np.sum((reconstruction - X) ** 2) / np.sum((X - X.mean(axis=0)) ** 2)


def test_each_prefix_is_a_fitted_model_of_its_own(ordered, small_X):
    codes = ordered.transform(small_X)
    for k in (1, 3, 6):
        prefix = ordered.truncate(k)
        assert prefix.latent_dim == prefix.n_components_ == k and prefix.ordered
        np.testing.assert_allclose(prefix.transform(small_X), codes[:, :k], atol=1e-6)
        # Its decoder reads the prefix as the whole code reads it with zeros after.
        padded = np.hstack([codes[:, :k], np.zeros((len(codes), 6 - k))])
        np.testing.assert_allclose(prefix.inverse_transform(codes[:, :k]),
                                   ordered.inverse_transform(padded), atol=1e-5)
        assert prefix.get_feature_names_out().shape == (k,)
    assert ordered.n_components_ == 6 and ordered.transform(small_X).shape[1] == 6


def test_explained_variance_is_the_held_out_r2_of_each_prefix(ordered, small_X):
    rows = _held_out(ordered, small_X)
    r2 = [_r2(ordered.truncate(k).inverse_transform(ordered.truncate(k).transform(rows)),
              rows) for k in range(1, 7)]
    np.testing.assert_allclose(np.cumsum(ordered.explained_variance_ratio_), r2, atol=1e-5)


def test_a_linear_ordered_code_explains_what_pca_does(digits_split):
    X = digits_split[0]
    model = AutoencoderTransformer(10, ordered=True, hidden_layer_sizes=(),
                                   activation="identity", max_epochs=5,
                                   random_state=0).fit(X)
    np.testing.assert_allclose(model.explained_variance_ratio_,
                               PCA(10).fit(X).explained_variance_ratio_, atol=1e-2)


def test_a_fraction_keeps_the_smallest_prefix_that_reaches_it(small_X):
    model = AutoencoderTransformer(0.7, **FAST).fit(small_X)
    r2 = np.cumsum(model.explained_variance_ratio_)
    k = model.n_components_
    assert model.latent_dim == 0.7  # the parameter is left as given
    assert r2[-1] >= 0.7 and (k == 1 or r2[-2] < 0.7)
    assert model.transform(small_X).shape == (len(small_X), k) == (300, len(r2))
    # Trained as wide as PCA's answer for (1 + 0.7) / 2.
    assert len(model.net_.history) and model._net_config["latent_dim"] == k
    assert k <= np.searchsorted(np.cumsum(PCA().fit(small_X).explained_variance_ratio_), 0.85) + 1


def test_a_fraction_no_prefix_reaches_keeps_the_whole_code_and_says_so(small_X, monkeypatch):
    monkeypatch.setattr("skae._transformer.ordered_width", lambda *args: 2)  # too narrow
    with pytest.warns(UserWarning, match="No prefix"):
        model = AutoencoderTransformer(0.8, **FAST).fit(small_X)
    assert model.n_components_ == 2 and np.sum(model.explained_variance_ratio_) < 0.8


def test_prefix_widths_draw_the_whole_code_for_a_share_of_rows():
    widths = prefix_widths(20_000, 30, torch.Generator().manual_seed(0))
    assert widths.min() == 1 and widths.max() == 30
    assert abs(float((widths == 30).float().mean()) - FULL_WIDTH_SHARE) < 0.02
    # log-uniform: about as many rows below 4 as from 4 to 15
    assert 0.7 < float((widths < 4).sum()) / float(((widths >= 4) & (widths < 16)).sum()) < 1.4


def test_the_same_seed_gives_the_same_ordered_fit(small_X, ordered):
    again = AutoencoderTransformer(6, ordered=True, **FAST).fit(small_X)
    np.testing.assert_array_equal(again.explained_variance_ratio_,
                                  ordered.explained_variance_ratio_)


@pytest.mark.parametrize("as_file", [True, False])
def test_a_fraction_and_a_prefix_save_and_load(small_X, ordered, tmp_path, as_file):
    for model in (AutoencoderTransformer(0.7, **FAST).fit(small_X), ordered.truncate(2)):
        if as_file:
            skae.save(model, tmp_path / "m.skae")
            back = skae.load(tmp_path / "m.skae")
        else:
            back = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(back.transform(small_X), model.transform(small_X))
        np.testing.assert_array_equal(back.explained_variance_ratio_,
                                      model.explained_variance_ratio_)


def test_the_vae_and_the_detector_order_their_codes(small_X):
    vae = VAETransformer(4, ordered=True, **FAST).fit(small_X)
    assert vae.explained_variance_ratio_.shape == (4,)
    np.testing.assert_allclose(vae.truncate(2).transform(small_X),
                               vae.transform(small_X)[:, :2], atol=1e-6)
    detector = AutoencoderOutlierDetector(VAETransformer(0.6, **FAST)).fit(small_X)
    assert detector.estimator_.n_components_ == len(detector.estimator_.explained_variance_ratio_)


def test_partial_fit_trains_an_ordered_code(small_X):
    model = AutoencoderTransformer(3, ordered=True, **FAST)
    model.partial_fit(small_X[:150]).partial_fit(small_X[150:])
    assert model.explained_variance_ratio_.shape == (3,) and model.n_iter_ == 2


def test_an_unordered_code_has_a_width_but_no_ratios(small_X):
    model = AutoencoderTransformer(3, **FAST).fit(small_X)
    assert model.n_components_ == 3 and not hasattr(model, "explained_variance_ratio_")
    with pytest.raises(ValueError, match="ordered=True"):
        model.truncate(1)


def test_one_ordered_fit_serves_a_grid_search_over_widths(small_X, ordered):
    """The guide's recipe: GridSearchCV over widths, each a prefix (no refit)."""
    scores = {k: ordered.truncate(k).score(small_X) for k in range(1, 7)}
    assert list(scores.values()) == sorted(scores.values())  # wider prefixes reconstruct better
    search = GridSearchCV(AutoencoderTransformer(ordered=True, **FAST),
                          {"latent_dim": [2, 4]}, cv=2).fit(small_X)
    assert search.best_estimator_.explained_variance_ratio_.shape[0] in (2, 4)


@pytest.mark.parametrize("params, error, match", [
    (dict(latent_dim=1.5), InvalidParameterError, "latent_dim"),
    (dict(latent_dim=0.0), InvalidParameterError, "latent_dim"),
    (dict(ordered=True, structure="umap"), ValueError, "structure"),
    (dict(latent_dim=0.9, structure="umap"), ValueError, "structure"),
    (dict(latent_dim=0.9, decoder=lambda n, k: torch.nn.Linear(k, n)), ValueError,
     "your own"),
])
def test_bad_settings_say_why(small_X, params, error, match):
    with pytest.raises(error, match=match):
        AutoencoderTransformer(**{**FAST, **params}).fit(small_X)


def test_bad_truncations_say_why(small_X, ordered):
    for k in (0, 7, 2.0):
        with pytest.raises(ValueError, match="n_components"):
            ordered.truncate(k)
    with pytest.raises(ValueError, match="partial_fit"):
        AutoencoderTransformer(0.9, **FAST).partial_fit(small_X)
    model = AutoencoderTransformer(2, ordered=True, decoder=lambda n, k: torch.nn.Linear(k, n),
                                   **FAST).fit(small_X)
    with pytest.raises(ValueError, match="your own"):
        model.truncate(1)


def test_a_cut_model_exports_to_onnx(small_X, ordered):
    onnxruntime = pytest.importorskip("onnxruntime")
    sample = small_X[:20].astype(np.float32)
    for model in (AutoencoderTransformer(0.7, **FAST).fit(small_X), ordered.truncate(2)):
        session = onnxruntime.InferenceSession(skae.to_onnx(model, sample).SerializeToString())
        got = session.run(None, {session.get_inputs()[0].name: sample})[0]
        assert got.shape == (20, model.n_components_)
        np.testing.assert_allclose(got, model.transform(sample), atol=1e-4)
