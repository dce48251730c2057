"""skae.to_torch: a fitted transformer's method as a standalone torch
module, equal to the estimator's method, a copy that trains apart from it."""

import numpy as np
import pandas as pd
import pytest
import torch

from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer, to_torch

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)


@pytest.mark.parametrize("cls", [AutoencoderTransformer, VAETransformer])
@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score_samples"])
def test_the_module_computes_what_the_method_does(cls, method, small_X):
    model = cls(latent_dim=2, **FAST).fit(small_X)
    rows = small_X[:7] if method != "inverse_transform" else model.transform(small_X[:7])
    expected = np.asarray(getattr(model, method)(rows), dtype=np.float32)
    with torch.no_grad():
        got = to_torch(model, method=method)(torch.tensor(rows, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-4, atol=1e-4)


def test_the_module_is_a_copy_that_trains_apart(small_X):
    model = AutoencoderTransformer(latent_dim=2, **FAST).fit(small_X)
    before = model.transform(small_X)
    encoder = to_torch(model)
    assert not encoder.training
    head = torch.nn.Sequential(encoder, torch.nn.Linear(2, 1))
    loss = head(torch.tensor(small_X, dtype=torch.float32)).square().mean()
    loss.backward()
    assert any(p.grad is not None for p in encoder.parameters())
    with torch.no_grad():
        for p in encoder.parameters():
            p.add_(1.0)
    np.testing.assert_array_equal(model.transform(small_X), before)


def test_what_it_cannot_give_is_refused_clearly(small_X):
    with pytest.raises(TypeError, match="estimator_"):
        to_torch(AutoencoderOutlierDetector(AutoencoderTransformer(2, **FAST)).fit(small_X))
    with pytest.raises(ValueError, match="method must be one of"):
        to_torch(AutoencoderTransformer(2, **FAST).fit(small_X), method="predict")
    with pytest.raises(ValueError, match="transform_neighbors=None"):
        to_torch(AutoencoderTransformer(2, transform_neighbors=5, **FAST).fit(small_X))
    table = pd.DataFrame({"x": small_X[:, 0], "kind": np.where(small_X[:, 1] > 0, "a", "b")})
    with pytest.raises(ValueError, match="table"):
        to_torch(AutoencoderTransformer(1, **FAST).fit(table))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        to_torch(AutoencoderTransformer(2))
