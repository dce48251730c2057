"""Sparse input: CSR/CSC matrices and arrays are read batch by batch,
densified one batch at a time, and train exactly as their dense copies do."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from peak_memory import PREAMBLE

from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

FAST = dict(max_epochs=4, hidden_layer_sizes=(16,), random_state=0)


@pytest.fixture(scope="module")
def sparse_X(small_X):
    return sp.csr_matrix(small_X)


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array])
def test_sparse_fit_equals_dense_fit(Est, kind, small_X):
    dense = Est(2, **FAST).fit(small_X)
    sparse = Est(2, **FAST).fit(kind(small_X))
    np.testing.assert_array_equal(dense.loss_curve_, sparse.loss_curve_)
    np.testing.assert_array_equal(dense.transform(small_X), sparse.transform(kind(small_X)))
    np.testing.assert_array_equal(dense.score_samples(small_X),
                                  sparse.score_samples(kind(small_X)))


def test_partial_fit_and_the_detector_take_sparse_chunks(sparse_X, small_X):
    ae = AutoencoderTransformer(2, **FAST)
    ae.partial_fit(sparse_X[:150]).partial_fit(sparse_X[150:])
    assert ae.n_iter_ == 2 and isinstance(ae.transform(sparse_X), np.ndarray)
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(2, **FAST)).fit(sparse_X)
    np.testing.assert_array_equal(detector.predict(sparse_X), detector.predict(small_X))


def test_sparse_input_is_checked_like_dense_input(sparse_X):
    bad = sparse_X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="AutoencoderImputer"):
        AutoencoderTransformer(**FAST).fit(bad)
    negative = sparse_X.copy()
    negative.data[0] = -1.0
    with pytest.raises(ValueError, match="loss='bce' needs X in"):
        AutoencoderTransformer(loss="bce", **FAST).fit(negative)
    fitted = AutoencoderTransformer(**FAST).fit(sparse_X)
    with pytest.raises(ValueError, match="AutoencoderImputer"):
        fitted.transform(bad)


def test_the_imputer_fills_the_stored_nan_of_a_sparse_matrix(sparse_X):
    from skae import AutoencoderImputer

    holed = sparse_X.tocsr(copy=True).astype(np.float64)
    holed.data[::7] = np.nan  # stored NaN are holes; implicit zeros are observed
    settings = dict(hidden_layer_sizes=(16,), latent_dim=8, max_epochs=3, random_state=0)
    filled = AutoencoderImputer(**settings).fit(holed).transform(holed)
    dense = AutoencoderImputer(**settings).fit(holed.toarray()).transform(holed.toarray())
    assert sp.issparse(filled) and filled.nnz == holed.nnz
    np.testing.assert_allclose(filled.toarray(), dense, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="stored NaN"):
        AutoencoderImputer(missing_values=0).fit(holed)


_MEMORY_SCRIPT = PREAMBLE + textwrap.dedent("""
    import sys, warnings
    import numpy as np, scipy.sparse as sp
    warnings.simplefilter("ignore")
    from skae import AutoencoderTransformer

    # Imports, allocator and threads warmed up on a small dense fit.
    warm = np.random.default_rng(0).random((1000, 64))
    AutoencoderTransformer(4, max_epochs=1, random_state=0).fit(warm).transform(warm)
    with PeakAnon() as memory:
        n, rng = 20_000, np.random.default_rng(0)
        nnz = n * n // 1000  # 0.1% density: dense float32 would be 1.6 GB
        X = sp.csr_matrix((rng.random(nnz, dtype=np.float32),
                           (rng.integers(0, n, nnz), rng.integers(0, n, nnz))), shape=(n, n))
        ae = AutoencoderTransformer(8, hidden_layer_sizes=eval(sys.argv[1]), max_epochs=2,
                                    random_state=0).fit(X)
        codes, scores = ae.transform(X), ae.score_samples(X)
    print(memory.growth_kb / 1024, codes.shape[0], np.isfinite(scores).all())
""")


@pytest.mark.quality
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_20k_by_20k_sparse_matrix_fits_in_bounded_memory():
    # A network sized for the data: its weights, gradients, AdamW state and
    # early stopping's best weights (4 x 21 MB) are most of the peak.
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, "(128,)"],
                         capture_output=True, text=True, check=True, timeout=600)
    peak_mb, rows, finite = out.stdout.split()
    assert int(rows) == 20_000 and finite == "True"
    # Peaks of 217 to 308 MB were measured over 15 runs (the allocator's
    # timing varies); the bound is the issue's.
    assert float(peak_mb) < 400


@pytest.mark.parametrize("shape", [(500, 300), (300, 500)])
def test_wide_sparse_data_starts_from_the_same_principal_axes(shape, monkeypatch):
    import skae._linear_start as linear

    X = np.random.default_rng(0).random(shape)
    X[X < 0.9] = 0
    dense = linear.linear_start(X, 5, internal=True, axes=True)
    # Past this width the axes come from ARPACK on the matrix, centred implicitly.
    monkeypatch.setattr(linear, "_MAX_COVARIANCE_FEATURES", 100)
    sparse = linear.linear_start(sp.csr_matrix(X), 5, internal=True, axes=True)
    np.testing.assert_allclose(sparse.sd, dense.sd, rtol=1e-5)
    np.testing.assert_allclose(np.abs(sparse.axes @ dense.axes.T), np.eye(5), atol=1e-4)
    assert sparse.scale == pytest.approx(dense.scale)
