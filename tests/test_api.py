"""Behaviour of the public estimators: API, determinism, errors, persistence."""

import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
import torch
from optimizer_reference import one_more_step_against_torchs_adamw
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderTransformer, VAETransformer, resolve_device
from skae._policy import auto_batch_size, auto_lr
from skae._vae_module import _moment_matched_draws

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, random_state=0)
ESTIMATORS = [AutoencoderTransformer, VAETransformer]


@pytest.fixture(params=ESTIMATORS, ids=lambda c: c.__name__)
def Est(request):
    return request.param


# ----------------------------------------------------------------- basics
def test_fit_transform_shapes_and_fitted_attributes(Est, small_X):
    est = Est(latent_dim=3, **FAST).fit(small_X)
    Z = est.transform(small_X)
    assert Z.shape == (len(small_X), 3)
    assert est.inverse_transform(Z).shape == small_X.shape
    assert est.n_features_in_ == small_X.shape[1]
    assert est.n_iter_ == len(est.loss_curve_) >= 1
    assert est.device_ == "cpu"
    assert est.net_.module_ is not None
    assert np.isfinite(est.loss_curve_).all()
    assert est.get_feature_names_out().tolist() == [
        f"{Est.__name__.lower()}{i}" for i in range(3)
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_follows_input(Est, small_X, dtype):
    X = small_X.astype(dtype)
    est = Est(**FAST).fit(X)
    Z = est.transform(X)
    assert Z.dtype == dtype
    assert est.inverse_transform(Z).dtype == dtype
    assert est.score_samples(X).dtype == dtype


def test_float32_and_float64_agree(Est, small_X):
    est = Est(**FAST).fit(small_X)
    Z64 = est.transform(small_X)
    Z32 = est.transform(small_X.astype(np.float32))
    np.testing.assert_allclose(Z32, Z64, rtol=1e-4, atol=1e-5)


def test_transform_is_deterministic_and_batch_independent(Est, small_X):
    est = Est(**FAST).fit(small_X)
    Z = est.transform(small_X)
    np.testing.assert_array_equal(Z, est.transform(small_X))
    single = np.vstack([est.transform(small_X[i:i + 1]) for i in range(10)])
    np.testing.assert_allclose(single, Z[:10], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        est.score_samples(small_X[:10]), est.score_samples(small_X)[:10], rtol=1e-12
    )


def test_fit_transform_equals_fit_then_transform(Est, small_X):
    Z1 = Est(**FAST).fit_transform(small_X)
    Z2 = Est(**FAST).fit(small_X).transform(small_X)
    np.testing.assert_array_equal(Z1, Z2)


# ---------------------------------------------------------- reproducibility
def test_same_random_state_same_model(Est, small_X):
    Z1 = Est(**FAST).fit(small_X).transform(small_X)
    Z2 = Est(**FAST).fit(small_X).transform(small_X)
    np.testing.assert_array_equal(Z1, Z2)
    # Without early stopping the trained weights are kept (with it, an
    # untrained PCA start that no epoch beats is the same for every seed).
    trained = {**FAST, "early_stopping": False}
    Z3 = Est(**trained).fit(small_X).transform(small_X)
    Z4 = Est(**{**trained, "random_state": 1}).fit(small_X).transform(small_X)
    assert not np.allclose(Z3, Z4)


def test_same_random_state_same_model_across_processes(small_X):
    code = (
        "import numpy as np, hashlib;"
        "from sklearn.datasets import load_digits;"
        "from skae import AutoencoderTransformer;"
        "X = np.ascontiguousarray(load_digits().data[:300] / 16.0);"
        "Z = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=4,"
        " random_state=0).fit(X).transform(X);"
        "print(hashlib.sha256(Z.tobytes()).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    import hashlib

    Z = AutoencoderTransformer(**FAST).fit(small_X).transform(small_X)
    assert out == hashlib.sha256(Z.tobytes()).hexdigest()


@pytest.mark.parametrize("random_state", [0, None])
def test_fit_leaves_global_rng_state_alone(Est, small_X, random_state):
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global state is what is checked)
    est = Est(**{**FAST, "random_state": random_state}).fit(small_X)
    if Est is VAETransformer:
        est.sample(2, random_state=0)
    assert torch.equal(torch_state, torch.get_rng_state())
    after = np.random.get_state()  # noqa: NPY002 (the legacy global state is what is checked)
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]


def test_random_state_none_varies(small_X):
    params = {**FAST, "random_state": None, "early_stopping": False}
    Z1 = AutoencoderTransformer(**params).fit_transform(small_X)
    Z2 = AutoencoderTransformer(**params).fit_transform(small_X)
    assert not np.allclose(Z1, Z2)


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "infinity"),
        (np.array([["a", "b"], ["c", "d"]]), "could not convert|string"),
        (np.array([[1 + 1j, 2], [3, 4]]), "Complex data not supported"),
        (np.empty((0, 3)), "0 sample"),
        (np.array([1.0, 2.0, 3.0]), "Expected 2D array"),
        (np.array([[1e39, 0.0], [0.0, 1.0]]), "too large for float32"),
    ],
)
def test_bad_fit_input_is_rejected(Est, X, match):
    with pytest.raises(ValueError, match=match):
        Est(**FAST).fit(X)


def test_bad_transform_input_is_rejected(Est, small_X):
    est = Est(**FAST).fit(small_X)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 64"):
        est.transform(small_X[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        est.transform(np.full((2, 64), np.nan))
    with pytest.raises(ValueError, match="X has 3 features, but .* decodes codes of 2"):
        est.inverse_transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Expected 2D array"):
        est.inverse_transform(np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        est.inverse_transform(np.array([[np.nan, 0.0]]))


def test_methods_before_fit_raise_not_fitted(Est, small_X):
    from sklearn.exceptions import NotFittedError

    est = Est(**FAST)
    for method in ("transform", "inverse_transform", "score_samples", "score"):
        with pytest.raises(NotFittedError):
            getattr(est, method)(small_X)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()


@pytest.mark.parametrize(
    "params",
    [
        {"latent_dim": 0},
        {"latent_dim": 1.5},
        {"lr": -0.1},
        {"lr": 0},
        {"loss": "hinge"},
        {"activation": "swish!"},
        {"hidden_layer_sizes": (32, 0)},
        {"hidden_layer_sizes": (32, "a")},
        {"max_epochs": 0},
        {"batch_size": 0},
        {"validation_fraction": 1.0},
        {"patience": 0},
        {"weight_decay": -1.0},
        {"device": "tpu"},
        {"device": "cuda:x"},
    ],
)
def test_invalid_parameters_are_rejected(Est, small_X, params):
    with pytest.raises((InvalidParameterError, ValueError)):
        Est(**{**FAST, **params}).fit(small_X)


def test_leaf_specific_invalid_parameters(small_X):
    with pytest.raises(InvalidParameterError, match="noise"):
        AutoencoderTransformer(noise=-1.0).fit(small_X)
    with pytest.raises(InvalidParameterError, match="beta"):
        VAETransformer(beta=-1.0).fit(small_X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_unavailable_is_a_clear_error(Est, small_X, device):
    with pytest.raises(ValueError, match="CUDA is not available"):
        Est(**{**FAST, "device": device}).fit(small_X)


def test_auto_device_resolves():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    assert resolve_device("cpu") == "cpu"


def test_bce_requires_unit_interval(Est, small_X):
    with pytest.raises(ValueError, match=r"loss='bce' needs X in \[0, 1\]"):
        Est(**{**FAST, "loss": "bce"}).fit(small_X * 2 - 0.5)
    est = Est(**{**FAST, "loss": "bce"}).fit(small_X)
    recon = est.inverse_transform(est.transform(small_X))
    assert recon.min() >= 0 and recon.max() <= 1
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        est.transform(small_X + 1)


def test_diverging_training_stops_with_a_clear_error(Est, small_X):
    params = {**FAST, "max_epochs": 5, "lr": 1e12}
    with pytest.raises(FloatingPointError, match=r"learning rate .* lower lr"):
        Est(**params).fit(small_X)


# ------------------------------------------------------------- training
def test_early_stopping_and_loss_curves(small_X):
    est = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=500, patience=3,
                                 lr=1e-2, random_state=0).fit(small_X)
    assert est.n_iter_ < 500
    assert est.validation_loss_curve_.shape == est.loss_curve_.shape == (est.n_iter_,)
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert np.argmin(est.validation_loss_curve_) == est.n_iter_ - 1 - 3  # patience 3

    est = AutoencoderTransformer(**{**FAST, "early_stopping": False}).fit(small_X)
    assert est.n_iter_ == FAST["max_epochs"]
    assert est.validation_loss_curve_ is None


def _held_out_loss(est, X):
    """The fitted model's loss on the rows that early stopping held out."""
    net = est.net_
    _, valid = net.get_split_datasets(torch.from_numpy(X.astype(np.float32)))
    net.module_.eval()
    net.start_validation()
    total = sum(float(net.validation_step(batch)["loss"]) * len(batch[0])
                for batch in net.get_iterator(valid))
    return total / len(valid)


def test_early_stopping_restores_the_best_epochs_weights(small_X):
    est = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=500, patience=3,
                                 lr=1e-2, random_state=0).fit(small_X)
    curve = est.validation_loss_curve_
    assert curve[-1] > curve.min()  # the last epochs were worse ...
    assert _held_out_loss(est, small_X) == pytest.approx(curve.min(), rel=1e-6)  # ... undone


def test_early_stopping_keeps_the_pca_start_when_no_epoch_beats_it(small_X):
    est = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=50, patience=2,
                                 lr=0.3, random_state=0).fit(small_X)
    assert est.validation_loss_curve_.min() > _held_out_loss(est, small_X)
    pca = PCA(2).fit(small_X)  # the untrained network: PCA's scores, up to sign
    np.testing.assert_allclose(np.abs(est.transform(small_X)), np.abs(pca.transform(small_X)),
                               atol=1e-5)


def test_tiny_data_trains_without_validation(Est):
    X = np.random.default_rng(0).random((1, 3))  # nothing to hold out
    est = Est(**FAST).fit(X)
    assert est.validation_loss_curve_ is None
    assert est.transform(X).shape == (1, 2)


def test_hidden_layer_sizes_forms(small_X):
    linear = AutoencoderTransformer(hidden_layer_sizes=(), max_epochs=2, random_state=0)
    assert linear.fit_transform(small_X).shape == (300, 2)
    module = linear.net_.module_
    assert not [m for m in module.encoder_body.modules() if isinstance(m, torch.nn.Linear)]
    assert isinstance(module.code, torch.nn.Linear)
    deep = AutoencoderTransformer(hidden_layer_sizes=32, max_epochs=2, random_state=0)
    assert deep.fit_transform(small_X).shape == (300, 2)


def test_activation_is_used(small_X):
    est = AutoencoderTransformer(**{**FAST, "activation": "tanh"}).fit(small_X)
    assert any(isinstance(m, torch.nn.Tanh) for m in est.net_.module_.modules())


def test_denoising_noise_changes_training_not_inference(small_X):
    clean = AutoencoderTransformer(**FAST).fit(small_X)
    noisy = AutoencoderTransformer(**{**FAST, "noise": 0.3}).fit(small_X)
    assert not np.allclose(clean.transform(small_X), noisy.transform(small_X))
    np.testing.assert_array_equal(noisy.transform(small_X), noisy.transform(small_X))


def test_verbose_zero_is_silent_and_verbose_one_prints(Est, small_X, capsys):
    Est(**FAST, verbose=0).fit(small_X)
    assert capsys.readouterr().out == ""
    Est(**FAST, verbose=1).fit(small_X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out


# --------------------------------------------------------------- scoring
def test_autoencoder_score_samples_is_minus_reconstruction_mse(small_X):
    est = AutoencoderTransformer(**FAST).fit(small_X)
    recon = est.inverse_transform(est.transform(small_X))
    expected = -((recon - small_X) ** 2).mean(axis=1)
    np.testing.assert_allclose(est.score_samples(small_X), expected, rtol=1e-6)
    assert est.score(small_X) == pytest.approx(expected.mean())


def test_scores_flag_anomalies(Est, digits_split):
    X_train, X_test, _, _ = digits_split
    est = Est(hidden_layer_sizes=(64,), max_epochs=30, random_state=0).fit(X_train)
    noise = np.random.default_rng(0).random((50, 64))
    assert np.median(est.score_samples(noise)) < np.percentile(
        est.score_samples(X_test), 5
    )


def test_vae_elbo_is_a_true_bound(small_X):
    bce = VAETransformer(**{**FAST, "loss": "bce"}).fit(small_X)
    elbo = bce.score_samples(small_X)
    assert np.all(elbo < 0)  # log p(x) <= 0 for a Bernoulli likelihood with x in {0,1}-ish
    # beta only weights training: the reported ELBO has beta = 1.
    mse = VAETransformer(**{**FAST, "beta": 4.0}).fit(small_X)
    assert np.isfinite(mse.score_samples(small_X)).all()


def test_vae_sample(small_X):
    vae = VAETransformer(**{**FAST, "loss": "bce"}).fit(small_X)
    S = vae.sample(5, random_state=0)
    assert S.shape == (5, 64) and S.dtype == np.float64
    assert S.min() >= 0 and S.max() <= 1
    np.testing.assert_array_equal(S, vae.sample(5, random_state=0))
    assert not np.allclose(S, vae.sample(5, random_state=1))
    assert vae.sample().shape == (1, 64)
    with pytest.raises(InvalidParameterError):
        vae.sample(0)


# ----------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trip(Est, small_X, tmp_path):
    est = Est(**FAST).fit(small_X)
    Z = est.transform(small_X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(small_X), Z)
    joblib.dump(est, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").transform(small_X), Z)


def test_model_pickled_on_cuda_loads_on_cpu(small_X):
    """skorch maps CUDA tensors to the CPU when CUDA is missing; the estimator
    follows. Simulated by labelling a CPU model as CUDA before pickling."""
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    est = AutoencoderTransformer(**FAST).fit(small_X)
    Z = est.transform(small_X)
    est.net_.device = "cuda"
    est.device_ = "cuda"
    payload = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning says what it did
        restored = pickle.loads(payload)
    assert restored.device_ == "cpu"
    np.testing.assert_array_equal(restored.transform(small_X), Z)


def test_readonly_memmap_input(Est, small_X, tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, small_X)
    X = np.load(path, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. numpy's warning on read-only arrays
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(**FAST).fit(X)
        np.testing.assert_array_equal(est.transform(X), est.transform(small_X))


# -------------------------------------------------------- sklearn ecosystem
def test_clone_and_params(Est):
    est = Est(latent_dim=7, hidden_layer_sizes=(32, 16))
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert "latent_dim=7" in repr(est)


def test_pandas_output(Est, small_X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(small_X, columns=[f"px{i}" for i in range(64)])
    est = Est(**FAST).set_output(transform="pandas")
    out = est.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert list(est.feature_names_in_) == list(frame.columns)


def test_pipeline_gridsearch_over_latent_dim(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipe = Pipeline([
        ("ae", AutoencoderTransformer(hidden_layer_sizes=(64,), max_epochs=15, random_state=0)),
        ("clf", LogisticRegression(max_iter=500)),
    ])
    search = GridSearchCV(pipe, {"ae__latent_dim": [2, 8]}, cv=3, n_jobs=2)
    search.fit(X_train, y_train)
    assert search.best_params_ == {"ae__latent_dim": 8}
    assert search.score(X_test, y_test) > 0.8


def test_unsupervised_gridsearch_on_vae_score(digits_split):
    X_train = digits_split[0]
    search = GridSearchCV(
        VAETransformer(hidden_layer_sizes=(64,), max_epochs=15, random_state=0),
        {"latent_dim": [1, 8]}, cv=3,
    ).fit(X_train)
    assert search.best_params_ == {"latent_dim": 8}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_memmap_transform_streams_and_releases_pages(tmp_path, small_X):
    from skae._batches import _memmap_pages

    path = tmp_path / "X.npy"
    np.save(path, np.tile(small_X, (20, 1)))
    X = np.load(path, mmap_mode="r")
    est = AutoencoderTransformer(**FAST).fit(small_X)
    # 6000 rows span two inference batches; results match in-memory input.
    np.testing.assert_array_equal(est.transform(X), est.transform(np.array(X)))
    assert _memmap_pages(X) is not None
    assert _memmap_pages(np.load(path, mmap_mode="c")) is None  # private copies kept
    bad = np.lib.format.open_memmap(tmp_path / "bad.npy", mode="w+", dtype=np.float64,
                                    shape=(5000, 64))
    bad[4500, 3] = np.nan
    bad.flush()
    with pytest.raises(ValueError, match="NaN"):
        est.transform(np.load(tmp_path / "bad.npy", mmap_mode="r"))


def test_bf16_training_precision(Est, small_X):
    est = Est(**{**FAST, "max_epochs": 15}, precision="bf16").fit(small_X)
    ref = Est(**{**FAST, "max_epochs": 15}).fit(small_X)
    assert next(est.net_.module_.parameters()).dtype == torch.float32
    assert est.transform(small_X).dtype == small_X.dtype
    assert np.isfinite(est.loss_curve_).all()
    # bfloat16 rounding changes the path, not the quality of the fit.
    assert est.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=0.1, abs=0.5)
    with pytest.raises(InvalidParameterError, match="precision"):
        Est(precision="16").fit(small_X)


def test_skorch_callbacks_history_and_partial_fit_keep_working(small_X):
    from skorch.callbacks import Callback

    class CountBatches(Callback):
        def initialize(self):
            self.batches, self.grads = 0, 0
            return self

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            self.batches += training

        def on_grad_computed(self, net, named_parameters, **kwargs):
            self.grads += 1

    est = AutoencoderTransformer(**{**FAST, "early_stopping": False, "batch_size": 100})
    est.fit(small_X)
    net = est.net_
    counter = CountBatches()
    net.set_params(callbacks=[*net.callbacks, ("count", counter)])
    net.initialize_callbacks()
    before = len(net.history)
    data = torch.from_numpy(small_X.astype(np.float32))
    net.partial_fit(data)  # continues training: skorch's warm-start path
    assert len(net.history) == before + net.max_epochs
    assert counter.batches == counter.grads == 3 * net.max_epochs
    row = net.history[-1]
    assert {"train_loss", "train_loss_best", "train_batch_count", "dur"} <= set(row)
    assert row["train_batch_count"] == 3


def test_cosine_lr_schedule_decays_to_zero(small_X):
    est = AutoencoderTransformer(**{**FAST, "early_stopping": False},
                                 lr_schedule="cosine").fit(small_X)
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)
    const = AutoencoderTransformer(**{**FAST, "early_stopping": False}, lr=1e-3,
                                   lr_schedule="constant").fit(small_X)
    assert const.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(const.lr)
    with pytest.raises(InvalidParameterError, match="lr_schedule"):
        AutoencoderTransformer(lr_schedule="step").fit(small_X)


def test_auto_batch_size_and_learning_rate_follow_the_rows():
    assert [auto_batch_size(n) for n in (100, 25_599, 25_600, 51_199, 51_200, 10**7)] == [
        64, 64, 128, 128, 256, 256]
    assert [auto_lr(b) for b in (64, 256)] == pytest.approx([1e-3, 2e-3])
    X = np.random.default_rng(0).random((30_000, 3))
    est = AutoencoderTransformer(1, hidden_layer_sizes=(4,), max_epochs=1,
                                 random_state=0).fit(X)
    # 27,000 training rows after the held-out tenth: 128 rows per batch.
    assert (est.net_.batch_size, est.net_.lr) == (128, pytest.approx(1e-3 * 2**0.5))
    assert est.batch_size == est.lr == "auto"  # parameters are left as given


def test_plateau_schedule_cuts_the_rate_when_the_monitored_loss_stalls(small_X):
    # A rate too small to move the loss: every epoch stalls. On 300 rows the
    # rate is cut after the 17 epochs that train on 5,000 rows.
    est = AutoencoderTransformer(**{**FAST, "max_epochs": 19, "early_stopping": False},
                                 lr=1e-6).fit(small_X)
    assert est.net_.optimizer_.param_groups[0]["lr"] < 0.5e-6
    # The torch scheduler (which holds the optimizer) is not kept after fit.
    assert dict(est.net_.callbacks_)["lr_schedule"].lr_scheduler_ is None


def test_vae_score_matches_a_fresh_monte_carlo_elbo(small_X):
    """The fixed draws behind score_samples carry no bias of their own."""
    vae = VAETransformer(hidden_layer_sizes=(32,), latent_dim=4, loss="bce", max_epochs=20,
                         random_state=0).fit(small_X)
    module = vae.net_.module_.eval()
    X = torch.from_numpy(small_X.astype(np.float32))
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        mu, logvar = module.posterior(X)
        draws = [module.log_likelihood(module.decode_raw(
            mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)), X)
            for _ in range(400)]
        fresh = (torch.stack(draws).mean(0) - module.kl_divergence(mu, logvar)).mean().item()
    assert vae.score(small_X) == pytest.approx(fresh, abs=0.05 * abs(fresh))
    eps = _moment_matched_draws(module.n_score_draws, 4)
    torch.testing.assert_close(eps.mean(0), torch.zeros(4, dtype=torch.float64), atol=1e-6,
                               rtol=0)
    torch.testing.assert_close(eps.T @ eps / len(eps), torch.eye(4, dtype=torch.float64),
                               atol=1e-5, rtol=0)


def test_masking_corruption(small_X):
    trained = {**FAST, "early_stopping": False}
    clean = AutoencoderTransformer(**trained).fit(small_X)
    masked = AutoencoderTransformer(**trained, noise=0.3, corruption="masking").fit(small_X)
    gauss = AutoencoderTransformer(**trained, noise=0.3).fit(small_X)
    Z = masked.transform(small_X)
    assert not np.allclose(Z, clean.transform(small_X))
    assert not np.allclose(Z, gauss.transform(small_X))
    np.testing.assert_array_equal(Z, masked.transform(small_X))  # inference never corrupts
    np.testing.assert_array_equal(
        Z, AutoencoderTransformer(**trained, noise=0.3, corruption="masking").fit_transform(
            small_X))
    # The net zeroes about `noise` of the inputs.
    batch = torch.ones(2000, 64)
    assert (masked.net_.corrupt(batch) == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    with pytest.raises(ValueError, match="masking' needs noise < 1"):
        AutoencoderTransformer(noise=1.0, corruption="masking").fit(small_X)
    with pytest.raises(InvalidParameterError, match="corruption"):
        AutoencoderTransformer(corruption="salt").fit(small_X)


def test_the_training_step_is_adamws_fused_step(small_X):
    X = small_X[:64]
    est = AutoencoderTransformer(2, hidden_layer_sizes=(16,), max_epochs=2, batch_size=64,
                                 early_stopping=False, lr=1e-3, lr_schedule="constant",
                                 random_state=0).fit(X)
    assert est.net_.optimizer_.defaults["fused"] is True
    # The same algorithm as torch's default (single-tensor) AdamW step.
    ours, theirs = one_more_step_against_torchs_adamw(
        est, X, lr=1e-3, weight_decay=1e-4, foreach=False, fused=False)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_sample_without_a_seed_draws_fresh_and_leaves_numpys_global_state(small_X):
    vae = VAETransformer(2, max_epochs=2, random_state=0).fit(small_X)
    np.random.seed(1)  # noqa: NPY002 (the global state itself)
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    first, second = vae.sample(3), vae.sample(3)
    assert not np.array_equal(first, second)  # a fresh seed from the OS each call
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    np.testing.assert_array_equal(vae.sample(3, random_state=0), vae.sample(3, random_state=0))
