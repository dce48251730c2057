"""CUDA paths; skipped where no CUDA device is present (CI has none)."""

import pickle

import numpy as np
import pytest
import torch

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
