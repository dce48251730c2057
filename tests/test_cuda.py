"""CUDA paths; skipped where no CUDA device is present (CI has none)."""

import pickle

import numpy as np
import pytest
import torch
from optimizer_reference import one_more_step_against_torchs_adamw

from skae import AutoencoderTransformer, VAETransformer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")

FAST = dict(hidden_layer_sizes=(32,), max_epochs=5, random_state=0)


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "auto"])
def test_fit_and_transform_on_cuda(Est, device, small_X):
    est = Est(**FAST, device=device).fit(small_X)
    assert est.device_.startswith("cuda")
    assert next(est.net_.module_.parameters()).is_cuda
    Z = est.transform(small_X)
    assert isinstance(Z, np.ndarray) and Z.dtype == small_X.dtype
    assert np.isfinite(est.score_samples(small_X)).all()
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(restored.transform(small_X), Z, rtol=1e-6, atol=1e-7)


def test_cuda_and_cpu_training_agree_in_quality(small_X):
    cpu = AutoencoderTransformer(**FAST).fit(small_X)
    gpu = AutoencoderTransformer(**FAST, device="cuda").fit(small_X)
    assert gpu.score(small_X) == pytest.approx(cpu.score(small_X), rel=0.1)


_LOAD_WITHOUT_CUDA = """
import pickle, sys, numpy as np, torch, skae
assert not torch.cuda.is_available()
with open(sys.argv[1], "rb") as f:
    est = pickle.load(f)
loaded = skae.load(sys.argv[2])
X = np.load(sys.argv[3])
assert est.device_ == "cpu" and loaded.device_ == "cpu"
np.testing.assert_allclose(est.transform(X), np.load(sys.argv[4]), rtol=1e-5, atol=1e-6)
np.testing.assert_allclose(loaded.transform(X), np.load(sys.argv[4]), rtol=1e-5, atol=1e-6)
est.fit(X)  # the net's generators were made anew on the CPU
print("ok")
"""


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_cuda_model_loads_in_a_process_without_cuda(Est, small_X, tmp_path):
    import os
    import subprocess
    import sys

    import skae

    est = Est(**FAST, noise=0.1, device="cuda") if Est is AutoencoderTransformer \
        else Est(**FAST, device="cuda")
    est.fit(small_X)
    paths = [tmp_path / name for name in ("m.pkl", "m.skae", "X.npy", "Z.npy")]
    paths[0].write_bytes(pickle.dumps(est))
    skae.save(est, paths[1])
    np.save(paths[2], small_X)
    np.save(paths[3], est.transform(small_X))
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", _LOAD_WITHOUT_CUDA, *map(str, paths)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_imputer_on_cuda(dtype, small_X):
    from skae import AutoencoderImputer
    from skae.datasets import hide_at_random

    X_missing, hidden = hide_at_random(small_X, 0.2, random_state=0)
    X_missing = X_missing.astype(dtype)
    imputer = AutoencoderImputer(hidden_layer_sizes=(32,), latent_dim=16, max_epochs=5,
                                 device="cuda", random_state=0)
    filled = imputer.fit_transform(X_missing)
    assert imputer.device_.startswith("cuda") and filled.dtype == dtype
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~hidden], X_missing[~hidden])


def test_sparse_input_and_structure_on_cuda(small_X):
    import scipy.sparse as sp

    dense = AutoencoderTransformer(**FAST, device="cuda").fit(small_X)
    sparse = AutoencoderTransformer(**FAST, device="cuda").fit(sp.csr_matrix(small_X))
    np.testing.assert_allclose(sparse.transform(small_X), dense.transform(small_X),
                               rtol=1e-4, atol=1e-5)
    mapped = AutoencoderTransformer(**FAST, structure="umap", transform_neighbors=5,
                                    device="cuda").fit(small_X)
    assert np.isfinite(mapped.transform(small_X)).all()


def test_cuda_training_takes_adamws_fused_step(small_X):
    X = small_X[:64]
    est = AutoencoderTransformer(2, hidden_layer_sizes=(16,), max_epochs=2, batch_size=64,
                                 early_stopping=False, lr=1e-3, lr_schedule="constant",
                                 device="cuda", random_state=0).fit(X)
    assert est.net_.optimizer_.defaults["fused"] is True
    assert est.net_.optimizer_.state_dict()["state"][0]["step"].is_cuda
    # The same update as torch's default (foreach) AdamW on the GPU.
    ours, theirs = one_more_step_against_torchs_adamw(
        est, X, lr=1e-3, weight_decay=1e-4, foreach=True, fused=False)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
