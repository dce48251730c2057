"""Beyond one fit in memory: partial_fit over chunks, memory-mapped data."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from peak_memory import PREAMBLE

import skae
from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

FAST = dict(hidden_layer_sizes=(32,), random_state=0)


def _test_mse(model, X):
    return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))


# ------------------------------------------------------------- partial_fit
@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_partial_fit_builds_on_the_first_chunk_and_grows_the_curves(Est, small_X):
    est = Est(3, **FAST)
    chunks = np.array_split(small_X, 3)
    est.partial_fit(chunks[0])
    assert est.n_features_in_ == 64 and est.n_iter_ == 1 and len(est.loss_curve_) == 1
    assert est.validation_loss_curve_ is None  # no holdout when streaming
    for chunk in chunks[1:]:
        est.partial_fit(chunk)
    assert est.n_iter_ == 3 and est.loss_curve_.shape == (3,)
    with pytest.raises(ValueError, match="X has 10 features"):
        est.partial_fit(small_X[:, :10])
    assert est.n_iter_ == 3
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(small_X), est.transform(small_X))
    assert restored.partial_fit(chunks[0]).n_iter_ == 4


def test_partial_fit_continues_a_fit_and_fit_starts_anew(small_X):
    est = AutoencoderTransformer(3, max_epochs=4, **FAST).fit(small_X)
    before = est.transform(small_X)
    est.partial_fit(small_X)
    assert est.n_iter_ == 5
    assert not np.array_equal(est.transform(small_X), before)
    est.fit(small_X)
    assert est.n_iter_ == 4
    np.testing.assert_array_equal(est.transform(small_X), before)


def test_partial_fit_model_saves_and_loads(small_X, tmp_path):
    est = VAETransformer(2, **FAST)
    for chunk in np.array_split(small_X, 2):
        est.partial_fit(chunk)
    skae.save(est, tmp_path / "stream.skae")
    loaded = skae.load(tmp_path / "stream.skae")
    np.testing.assert_array_equal(loaded.score_samples(small_X), est.score_samples(small_X))
    assert loaded.partial_fit(small_X).n_iter_ == 3


def test_detector_partial_fit_sets_its_offset_once(small_X):
    det = AutoencoderOutlierDetector(AutoencoderTransformer(4, **FAST), contamination=0.1)
    det.partial_fit(small_X[:150])
    offset = det.offset_
    det.partial_fit(small_X[150:])
    assert det.offset_ == offset and det.estimator_.n_iter_ == 2
    assert set(np.unique(det.predict(small_X))) <= {-1, 1}


@pytest.mark.quality
@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_partial_fit_over_chunks_matches_fit_with_the_same_passes(Est, digits_split):
    X_train, X_test = digits_split[:2]
    passes = 30
    full = Est(8, max_epochs=passes, early_stopping=False, random_state=0).fit(X_train)
    streamed = Est(8, random_state=0)
    for _ in range(passes):
        for chunk in np.array_split(X_train, 5):
            streamed.partial_fit(chunk)
    assert streamed.n_iter_ == 5 * passes
    assert _test_mse(streamed, X_test) <= 1.3 * _test_mse(full, X_test)


# ------------------------------------------------------------ memory-mapped
def test_memory_mapped_fit_trains_as_well_as_in_memory(digits_split, tmp_path):
    X_train, X_test = digits_split[:2]
    np.save(tmp_path / "X.npy", X_train.astype(np.float32))
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    streamed = AutoencoderTransformer(8, max_epochs=30, **FAST).fit(mapped)
    in_memory = AutoencoderTransformer(8, max_epochs=30, **FAST).fit(X_train)
    assert streamed.validation_loss_curve_ is not None  # the holdout works on a memmap
    assert _test_mse(streamed, X_test) <= 1.1 * _test_mse(in_memory, X_test)
    np.testing.assert_array_equal(streamed.transform(mapped),
                                  streamed.transform(X_train.astype(np.float32)))


_MEMORY_SCRIPT = PREAMBLE + textwrap.dedent("""
    import sys, warnings
    import numpy as np
    warnings.simplefilter("ignore")

    path = sys.argv[1]
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(300_000, 256))
    rng = np.random.default_rng(0)
    for start in range(0, len(X), 50_000):
        X[start:start + 50_000] = rng.random((50_000, 256), dtype=np.float32)
    X.flush()
    del X
    from skae import AutoencoderTransformer
    X = np.load(path, mmap_mode="r")
    ae = AutoencoderTransformer(16, hidden_layer_sizes=(64,), max_epochs=1, batch_size=256,
                                random_state=0)
    ae.fit(np.array(X[:1000]))  # imports, allocator and threads warmed up
    with PeakAnon() as memory:
        ae.fit(X)
        codes = ae.transform(X)
    print(memory.growth_kb * 1024 / X.nbytes, codes.shape[0])
""")


@pytest.mark.quality
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_memory_mapped_fit_and_transform_stay_within_a_third_of_the_array(tmp_path):
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(tmp_path / "X.npy")],
                         capture_output=True, text=True, check=True, timeout=600)
    growth, rows = out.stdout.split()
    assert int(rows) == 300_000
    assert float(growth) <= 0.35  # of the 307 MB array (a copy would be 1.0)
