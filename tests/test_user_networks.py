"""Users' own encoder and decoder networks, with everything else skae gives."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

import skae
from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

FAST = dict(max_epochs=4, random_state=0)


class SequenceEncoder(nn.Module):
    """1-D convolutions over a row read as a sequence, then a linear code."""

    def __init__(self, n_features, latent_dim, width=None):
        super().__init__()
        self.body = nn.Sequential(
            nn.Unflatten(1, (1, n_features)),
            nn.Conv1d(1, 8, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv1d(8, 8, 5, stride=2, padding=2), nn.ReLU(), nn.Flatten(),
            nn.LazyLinear(width or latent_dim))

    def forward(self, x):
        return self.body(x)


def wide_encoder(n_features, latent_dim):
    """An encoder whose output (16 values) is not the code: for the VAE's heads."""
    return SequenceEncoder(n_features, latent_dim, width=16)


def mlp_decoder(n_features, latent_dim):
    return nn.Sequential(nn.Linear(latent_dim, 32), nn.Dropout(0.1), nn.ReLU(),
                         nn.Linear(32, n_features))


CASES = {
    "ae": lambda **kw: AutoencoderTransformer(3, encoder=SequenceEncoder, decoder=mlp_decoder,
                                              **FAST, **kw),
    "vae": lambda **kw: VAETransformer(3, encoder=wide_encoder, decoder=mlp_decoder, **FAST,
                                       **kw),
    "ae-encoder-only": lambda **kw: AutoencoderTransformer(3, encoder=SequenceEncoder, **FAST,
                                                           **kw),
    "vae-decoder-only-bce": lambda **kw: VAETransformer(3, decoder=mlp_decoder, loss="bce",
                                                        **FAST, **kw),
}


@pytest.mark.parametrize("case", list(CASES))
def test_user_networks_are_used_and_trained(case, small_X):
    est = CASES[case]().fit(small_X)
    module = est.net_.module_
    if est.encoder is not None:
        assert isinstance(module.encoder_body, SequenceEncoder)
    if est.decoder is not None:
        assert isinstance(module.decoder[1], nn.Dropout)
    assert not module.linear_path  # no PCA path around a user's network
    assert est.transform(small_X).shape == (len(small_X), 3)
    assert est.inverse_transform(est.transform(small_X)).shape == small_X.shape
    assert est.loss_curve_[-1] < est.loss_curve_[0]


@pytest.mark.parametrize("case", list(CASES))
def test_user_networks_are_seeded_by_fit_and_leave_global_rng_alone(case, small_X):
    state = torch.random.get_rng_state()
    a = CASES[case]().fit(small_X)
    assert torch.equal(torch.random.get_rng_state(), state)  # dropout and init included
    b = clone(a).fit(small_X)
    np.testing.assert_array_equal(a.transform(small_X), b.transform(small_X))
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.transform(small_X), a.transform(small_X))


def test_fits_in_threads_are_reproducible_and_leave_global_rng_alone(small_X):
    from concurrent.futures import ThreadPoolExecutor

    state = torch.random.get_rng_state()
    with ThreadPoolExecutor(3) as pool:
        models = list(pool.map(lambda _: CASES["ae"]().fit(small_X), range(3)))
    reference = CASES["ae"]().fit(small_X).transform(small_X)
    for model in models:
        np.testing.assert_array_equal(model.transform(small_X), reference)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_vae_adds_mean_and_log_variance_heads_on_the_encoder(small_X):
    vae = CASES["vae"]().fit(small_X)
    head = vae.net_.module_.code
    assert (head.in_features, head.out_features) == (16, 2 * 3)


def test_save_and_load_need_the_same_networks(small_X, tmp_path):
    est = AutoencoderOutlierDetector(CASES["vae"](), contamination=0.1).fit(small_X)
    path = tmp_path / "user.skae"
    skae.save(est, path)
    with pytest.raises(ValueError, match="encoder=test_user_networks:wide_encoder"):
        skae.load(path)
    loaded = skae.load(path, encoder=wide_encoder, decoder=mlp_decoder)
    np.testing.assert_array_equal(loaded.score_samples(small_X), est.score_samples(small_X))
    np.testing.assert_array_equal(loaded.predict(small_X), est.predict(small_X))


def test_grid_search_over_latent_dim_builds_fresh_networks(small_X):
    search = GridSearchCV(CASES["ae"](), {"latent_dim": [2, 4]}, cv=2).fit(small_X)
    assert search.best_estimator_.transform(small_X).shape[1] == search.best_params_[
        "latent_dim"]
    search = GridSearchCV(AutoencoderOutlierDetector(CASES["vae"]()),
                          {"estimator__latent_dim": [2, 4]}, cv=2,
                          scoring=lambda est, X, y=None: est.score_samples(X).mean())
    assert search.fit(small_X).best_estimator_.estimator_.latent_dim in (2, 4)


def _not_a_module(n_features, latent_dim):
    return "a string"


def _crashes(n_features, latent_dim):
    return nn.Linear(n_features + 1, latent_dim)


@pytest.mark.parametrize("params, error, match", [
    ({"encoder": _not_a_module}, TypeError, "must return a torch.nn.Module"),
    ({"encoder": _crashes}, ValueError, "encoder Linear failed on a batch of shape \\(2, 64\\)"),
    ({"encoder": lambda n, k: nn.Linear(n, k + 1)}, ValueError,
     "must output latent_dim=3 values per row"),
    ({"decoder": lambda n, k: nn.Linear(k, n - 1)}, ValueError,
     "must output n_features_in=64 values per row"),
    ({"encoder": lambda n, k: nn.Unflatten(1, (1, n))}, ValueError, "to a 2-D tensor"),
    ({"encoder": "mlp"}, ValueError, "encoder"),
])
def test_bad_user_networks_are_clear_errors(small_X, params, error, match):
    with pytest.raises(error, match=match):
        AutoencoderTransformer(3, **FAST, **params).fit(small_X)
