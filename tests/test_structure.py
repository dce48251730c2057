"""structure="umap": parametric UMAP's neighbourhood loss in the training
loop, and transform_neighbors. ``benchmarks/bench_structure.py`` prints the
comparison with PCA and UMAP."""

import time

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier
from torch import nn

import skae
from skae import AutoencoderTransformer, VAETransformer
from skae._structure import fuzzy_graph, umap_curve

FAST = dict(max_epochs=3, hidden_layer_sizes=(32,), random_state=0)


def test_umap_curve_matches_umaps_constants():
    a, b = umap_curve(0.1)
    assert a == pytest.approx(1.577, abs=0.01) and b == pytest.approx(0.895, abs=0.01)


def test_fuzzy_graph_is_symmetric_with_memberships_in_0_1(small_X):
    heads, tails, weights = fuzzy_graph(small_X, 10)
    graph = sp.coo_matrix((weights, (heads, tails)), shape=(300, 300)).toarray()
    np.testing.assert_allclose(graph, graph.T, atol=1e-6)
    assert weights.min() > 0 and weights.max() <= 1 + 1e-6
    assert np.all(np.diag(graph) == 0)
    assert np.all((graph > 0).sum(axis=1) >= 9)  # 10 neighbours, the row included
    # Each row's nearest neighbour has membership 1 (UMAP's local connectivity).
    assert np.allclose(graph.max(axis=1), 1, atol=1e-5)


def test_fuzzy_graph_agrees_with_umap_learn(small_X):
    umap = pytest.importorskip("umap.umap_")
    theirs, _, _ = umap.fuzzy_simplicial_set(small_X, 10, random_state=0, metric="euclidean")
    heads, tails, weights = fuzzy_graph(small_X, 10)
    ours = sp.coo_matrix((weights, (heads, tails)), shape=theirs.shape).toarray()
    theirs = theirs.toarray()
    error = np.abs(ours - theirs)[(ours > 0) | (theirs > 0)]
    # Equal distances (digits has ties) may order neighbours differently.
    assert np.mean(error < 1e-3) > 0.99
    assert ours.sum() == pytest.approx(theirs.sum(), rel=5e-3)


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_structure_trains_without_early_stopping(Est, small_X):
    model = Est(2, structure="umap", **FAST).fit(small_X)
    assert model.n_iter_ == 3 and model.validation_loss_curve_ is None
    assert np.isfinite(model.transform(small_X)).all()
    assert not hasattr(model.net_, "structure_") or model.net_.structure_ is None


def test_structure_is_seeded(small_X):
    a = AutoencoderTransformer(2, structure="umap", **FAST).fit_transform(small_X)
    b = AutoencoderTransformer(2, structure="umap", **FAST).fit_transform(small_X)
    np.testing.assert_array_equal(a, b)


class _Encoder(nn.Module):
    def __init__(self, n_features, latent_dim):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, 16), nn.Tanh(),
                                    nn.Linear(16, latent_dim))

    def forward(self, x):
        return self.layers(x)


@pytest.mark.parametrize("extra", [dict(architecture="conv", image_shape=(8, 8),
                                        conv_channels=(4,)), dict(encoder=_Encoder)])
def test_structure_with_conv_and_users_networks(extra, small_X):
    model = AutoencoderTransformer(2, structure="umap", **FAST, **extra).fit(small_X)
    assert np.isfinite(model.transform(small_X)).all()


def test_structure_with_partial_fit_and_sparse_input(small_X):
    model = AutoencoderTransformer(2, structure="umap", **FAST)
    model.partial_fit(small_X[:150]).partial_fit(sp.csr_matrix(small_X[150:]))
    assert model.n_iter_ == 2


def test_transform_neighbors_places_rows_among_training_codes_and_saves(small_X, tmp_path):
    model = AutoencoderTransformer(2, structure="umap", transform_neighbors=5, **FAST)
    codes = model.fit(small_X[:200]).transform(small_X[200:])
    assert codes.shape == (100, 2)
    # A mean of training codes lies in their bounding box.
    low, high = model._neighbour_codes.min(axis=0), model._neighbour_codes.max(axis=0)
    assert np.all(codes >= low - 1e-6) and np.all(codes <= high + 1e-6)
    skae.save(model, tmp_path / "m.skae")
    loaded = skae.load(tmp_path / "m.skae")
    np.testing.assert_allclose(loaded.transform(small_X[200:]), codes, rtol=1e-6)


@pytest.mark.quality
def test_digits_codes_keep_neighbourhoods_as_umap_does(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    plain = AutoencoderTransformer(2, random_state=0).fit(X_train)
    model = AutoencoderTransformer(2, structure="umap", transform_neighbors=5, noise=0.1,
                                   max_epochs=100, random_state=0).fit(X_train)
    start = time.perf_counter()
    codes = model.transform(X_test)
    seconds = time.perf_counter() - start
    knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(codes, y_test)
    trust = trustworthiness(X_test, codes, n_neighbors=10)
    assert knn >= 0.90 and trust >= 0.945, (knn, trust)
    # Reconstruction from the encoder's code: minus score is the test MSE.
    assert -model.score(X_test) <= 1.5 * -plain.score(X_test)
    assert seconds < 0.1
