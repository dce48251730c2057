"""structure="umap": UMAP's graph, layout and cross-entropy in the training
loop, and transform_neighbors. ``benchmarks/bench_structure.py`` prints the
comparison with PCA and UMAP."""


import numpy as np
import pytest
import scipy.sparse as sp
import torch
from networks import TanhEncoder
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

import skae
from skae import AutoencoderTransformer, VAETransformer
from skae._networks import read_codes
from skae._policy import MAP_TOL, EarlyStoppingFromStart, auto_batch_size, training_policy
from skae._structure import (
    LayoutTarget,
    fuzzy_graph,
    neighbour_space,
    optimize_layout,
    place,
    umap_curve,
)

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


def _blobs(n=60, seed=0):
    """Two tight, far apart blobs of n rows each in 5-d, and their labels."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(0, 0.1, (n, 5)), rng.normal(3, 0.1, (n, 5))])
    return X, np.repeat([0, 1], n)


def _graph(X, n_neighbors=10):
    return tuple(torch.as_tensor(v) for v in fuzzy_graph(X, n_neighbors))


def test_layout_separates_what_the_graph_separates():
    X, labels = _blobs()
    # From a start that mixes the blobs.
    start = torch.as_tensor(np.random.default_rng(1).uniform(0, 10, (len(X), 2)),
                            dtype=torch.float32)
    codes = optimize_layout(start.clone(), *_graph(X), n_epochs=200, seed=0).numpy()
    assert np.isfinite(codes).all()
    centres = np.array([codes[labels == k].mean(axis=0) for k in (0, 1)])
    spread = max(np.linalg.norm(codes[labels == k] - centres[k], axis=1).mean() for k in (0, 1))
    assert np.linalg.norm(centres[0] - centres[1]) > 3 * spread
    # Deterministic for a seed.
    again = optimize_layout(start.clone(), *_graph(X), n_epochs=200, seed=0).numpy()
    np.testing.assert_array_equal(codes, again)


def test_place_puts_new_rows_with_their_neighbours():
    X, labels = _blobs()
    anchors = np.where(labels[:, None] == 0, [0.0, 0.0], [8.0, 0.0]).astype(np.float32)
    anchors += np.random.default_rng(0).normal(0, 0.3, anchors.shape).astype(np.float32)
    new, new_labels = _blobs(20, seed=1)
    distances, index = NearestNeighbors(n_neighbors=10).fit(X).kneighbors(new)
    for epochs in (0, 30):
        codes = place(anchors, index, distances, n_epochs=epochs)
        assert codes.shape == (40, 2) and codes.dtype == np.float32
        # Each with its own blob's anchors: well within half the 8 between the blobs.
        assert np.all(np.abs(codes[:, 0] - np.where(new_labels == 0, 0, 8)) < 3)


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_structure_early_stopping_also_watches_the_layout(Est, small_X):
    model = Est(2, structure="umap", **FAST).fit(small_X)
    assert model.n_iter_ == 3 and len(model.validation_loss_curve_) == 3
    # The held-out loss adds the codes' squared distance to their layout
    # codes (far at first: the codes start as PCA's, the layout spans 0-10).
    alone = Est(2, structure="umap", structure_weight=0.0, **FAST).fit(small_X)
    assert model.validation_loss_curve_[0] > alone.validation_loss_curve_[0] + 1
    assert np.isfinite(model.transform(small_X)).all()
    assert not hasattr(model.net_, "structure_") or model.net_.structure_ is None
    assert model.embedding_.shape == (300, 2) and np.isfinite(model.embedding_).all()
    np.testing.assert_allclose(model.embedding_.mean(axis=0), 0, atol=1e-3)
    # A refit without structure keeps no layout.
    assert not hasattr(model.set_params(structure=None).fit(small_X), "embedding_")


def test_structure_is_seeded(small_X):
    a = AutoencoderTransformer(2, structure="umap", **FAST).fit_transform(small_X)
    b = AutoencoderTransformer(2, structure="umap", **FAST).fit_transform(small_X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("extra", [dict(architecture="conv", image_shape=(8, 8),
                                        conv_channels=(4,)), dict(encoder=TanhEncoder)])
def test_structure_with_conv_and_users_networks(extra, small_X):
    model = AutoencoderTransformer(2, structure="umap", **FAST, **extra).fit(small_X)
    assert np.isfinite(model.transform(small_X)).all()


def test_structure_with_partial_fit_and_sparse_input(small_X):
    model = AutoencoderTransformer(2, structure="umap", **FAST)
    model.partial_fit(small_X[:150]).partial_fit(sp.csr_matrix(small_X[150:]))
    assert model.n_iter_ == 2
    assert model.embedding_.shape == (150, 2)  # the last chunk's layout


def test_structure_pulls_codes_to_the_layout(small_X):
    # The structure loss draws the encoder's codes to the layout: closer
    # than without it (structure_weight=0 trains on reconstruction alone).
    kwargs = dict(FAST, max_epochs=20, lr=1e-2, structure="umap")
    gaps = []
    for weight in (0.0, 1.0):
        model = AutoencoderTransformer(2, structure_weight=weight, **kwargs).fit(small_X)
        gaps.append(np.linalg.norm(model.transform(small_X) - model.embedding_, axis=1).mean())
    assert gaps[1] < 0.3 * gaps[0], gaps


@pytest.mark.parametrize("structure", [None, "umap"])
def test_transform_neighbors_places_rows_among_training_codes_and_saves(structure, small_X,
                                                                        tmp_path):
    model = AutoencoderTransformer(2, structure=structure, transform_neighbors=5, **FAST)
    codes = model.fit(small_X[:200]).transform(small_X[200:])
    assert codes.shape == (100, 2)
    if structure is None:  # a mean of the training rows' codes: in their bounding box
        train = model._map(lambda module, batch: module.encode(batch), small_X[:200])
        low, high = train.min(axis=0), train.max(axis=0)
        assert np.all(codes >= low - 1e-6) and np.all(codes <= high + 1e-6)
    else:  # among the layout: training rows land by their own layout codes
        placed = model.transform(small_X[:200])
        gap = np.linalg.norm(placed - model.embedding_, axis=1)
        assert np.median(gap) < 0.1 * np.ptp(model.embedding_, axis=0).max()
    skae.save(model, tmp_path / "m.skae")
    loaded = skae.load(tmp_path / "m.skae")
    np.testing.assert_allclose(loaded.transform(small_X[200:]), codes, rtol=1e-6)
    if structure is not None:
        np.testing.assert_array_equal(loaded.embedding_, model.embedding_)


@pytest.mark.quality
def test_digits_codes_keep_neighbourhoods_as_umap_does(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    plain = AutoencoderTransformer(2, random_state=0).fit(X_train)
    model = AutoencoderTransformer(2, structure="umap", noise=0.1, max_epochs=100,
                                   random_state=0).fit(X_train)

    def knn(model, codes):
        return KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(
            codes, y_test)

    # The encoder alone keeps classes apart better than without structure.
    assert knn(model, model.transform(X_test)) >= knn(plain, plain.transform(X_test)) + 0.05
    # Reconstruction from the encoder's code: minus score is the test MSE.
    assert -model.score(X_test) <= 1.5 * -plain.score(X_test)
    # Placed among the layout as UMAP places new rows: UMAP's quality.
    # (Its speed is measured in benchmarks/bench_structure.py, not here.)
    model.set_params(transform_neighbors=15)._set_neighbours(X_train)
    codes = model.transform(X_test)
    accuracy, trust = knn(model, codes), trustworthiness(X_test, codes, n_neighbors=10)
    assert accuracy >= 0.90 and trust >= 0.945, (accuracy, trust)


def test_wide_rows_are_searched_among_principal_components(small_X):
    rng = np.random.default_rng(0)
    wide = np.hstack([small_X, rng.normal(0, 0.01, (300, 36))])  # 100 features
    model = AutoencoderTransformer(2, structure="umap", transform_neighbors=5, **FAST)
    model.fit(wide[:200])
    assert model._neighbour_space.components.shape == (50, 100)
    assert model._neighbour_points.shape == (200, 50)  # not the rows themselves
    codes = model.transform(wide[200:])
    assert codes.shape == (100, 2) and np.isfinite(codes).all()
    # The same neighbours as a search in all 100 features, nearly always.
    ours = model._neighbours.kneighbors(model._neighbour_space.transform(wide[200:]))[1]
    exact = NearestNeighbors(n_neighbors=5).fit(wide[:200]).kneighbors(wide[200:])[1]
    shared = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ours, exact, strict=True)])
    assert shared > 0.9, shared
    # Narrow rows are searched as they are.
    assert model.fit(small_X)._neighbour_space is None


def test_neighbour_space_axes_are_pcas(small_X):
    """The axes from the covariance matrix: scikit-learn's PCA's, signs included."""
    wide = np.hstack([small_X, np.random.default_rng(0).normal(0, 0.2, (300, 36))])
    space = neighbour_space(wide)
    pca = PCA(50, svd_solver="full").fit(wide)
    np.testing.assert_allclose(space.mean, pca.mean_, atol=1e-10)
    np.testing.assert_allclose(space.components, pca.components_, atol=1e-6)


def test_a_maps_decoder_reads_the_layout(small_X):
    """With a structure term, every step decodes each row's layout code (the
    map's inverse is what inverse_transform of placed rows needs), and the
    encoder's gradient passes straight through; without one, its own code."""
    model = AutoencoderTransformer(2, structure="umap", **FAST).fit(small_X)
    net, rows = model.net_, torch.arange(5)
    layout = torch.as_tensor(model.embedding_)
    net.structure_ = LayoutTarget(layout, (torch.zeros(300, 1, dtype=torch.int64),
                                           torch.ones(300, 1)))
    read = net._read(rows)["codes"]
    torch.testing.assert_close(read, layout[:5])
    x = torch.as_tensor(small_X[:5], dtype=torch.float32)
    module = net.module_.eval()
    decoded = module.decode(read)
    raw, code = module(x, codes=read)
    torch.testing.assert_close(module.link(raw) * module.scale + module.center, decoded)
    net.structure_weight = 0.0
    assert net._read(rows) == {}
    net.structure_ = None


def test_read_codes_decodes_the_targets_and_passes_the_gradient_through():
    z = torch.tensor([[1.0, 2.0]], requires_grad=True)
    codes = torch.tensor([[5.0, -1.0]])
    read = read_codes(z, z, codes)
    torch.testing.assert_close(read.detach(), codes)
    (read * torch.tensor([[3.0, 4.0]])).sum().backward()
    torch.testing.assert_close(z.grad, torch.tensor([[3.0, 4.0]]))
    # A VAE's draw around its mean keeps its spread around the target.
    mean = torch.zeros(1, 2)
    torch.testing.assert_close(read_codes(mean + 0.5, mean, codes), codes + 0.5)


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_tol_stops_when_epochs_no_longer_pay(Est, small_X):
    """No epoch lowers the held-out loss by 90%: training stops after
    patience epochs, for a VAE's negative losses too."""
    model = Est(2, tol=0.9, patience=2, max_epochs=30, hidden_layer_sizes=(32,),
                random_state=0).fit(small_X)
    assert model.n_iter_ == 2
    with pytest.raises(ValueError, match="tol"):
        Est(2, tol=-1).fit(small_X)


def test_tol_is_a_fall_relative_to_the_best_loss_of_either_sign(small_X):
    stopping = EarlyStoppingFromStart(threshold=0.1)
    assert stopping._calc_new_threshold(10.0) == pytest.approx(9.0)
    assert stopping._calc_new_threshold(-10.0) == pytest.approx(-11.0)  # a VAE's nats
    assert AutoencoderTransformer(2, tol=0, patience=2, max_epochs=6, hidden_layer_sizes=(32,),
                                  random_state=0).fit(small_X).n_iter_ > 2


def test_a_maps_fit_takes_larger_batches_and_stops_at_one_percent():
    plain = training_policy(**POLICY)
    mapped = training_policy(**POLICY, map_fit=True)
    assert (plain["batch_size"], mapped["batch_size"]) == (64, 512)
    stopping = {name: dict(callbacks)["early_stopping"] for name, callbacks in
                (("plain", plain["callbacks"]), ("map", mapped["callbacks"]))}
    assert stopping["plain"].threshold == 0 and stopping["map"].threshold == MAP_TOL == 0.01
    assert training_policy(**POLICY, map_fit=True, tol=0)["callbacks"][-1][1].threshold == 0
    assert auto_batch_size(1293, 20, 512) == 64  # digits: as a plain fit


POLICY = dict(n_samples=20_000, max_epochs=10, batch_size="auto", lr="auto",
              lr_schedule="plateau", weight_decay=0.0, early_stopping=True,
              validation_fraction=0.1, patience=10, device="cpu", seed=0, verbose=0,
              precision="32")
