"""Reliability in users' conditions: foreign arrays, threads, interrupts,
divergence, parameters changed after fit, global state, the fitted net."""

import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import torch
from estimator_outputs import assert_same_outputs, outputs
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer
from skae._net import AutoencoderNet
from skae._vae_module import _moment_matched_draws

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, random_state=0)


def _detector(**params):
    """The outlier detector around an autoencoder with ``params``."""
    return AutoencoderOutlierDetector(AutoencoderTransformer(8, **params))


_detector.__name__ = "AutoencoderOutlierDetector"
ALL = [AutoencoderTransformer, VAETransformer, _detector]


@pytest.fixture(params=ALL, ids=lambda c: c.__name__)
def Est(request):
    return request.param


def _set(est, **params):
    """``est.set_params`` of the network's parameters (the wrapped
    estimator's, for the detector)."""
    prefix = "estimator__" if hasattr(est, "contamination") else ""
    return est.set_params(**{prefix + key: value for key, value in params.items()})


def _net(est):
    return getattr(est, "estimator_", est).net_


# ------------------------------------------------------------ foreign arrays
def _foreign(X):
    """The same data as arrays owned by other objects."""
    pl = pytest.importorskip("polars")
    return {
        "torch tensor": torch.from_numpy(X.copy()),
        "tensor.numpy()": torch.from_numpy(X.copy()).numpy(),
        "np.frombuffer": np.frombuffer(X.tobytes()).reshape(X.shape),
        "memoryview": memoryview(X.copy()),
        "polars": pl.DataFrame(X),
    }


def test_arrays_owned_by_other_objects_are_accepted(Est, small_X):
    est = Est(**FAST).fit(small_X)
    expected = outputs(est, small_X)
    for name, X in _foreign(small_X).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # polars' feature names
            got = outputs(est, X)
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], err_msg=f"{name}: {key}")


def test_polars_output_round_trip_between_two_skae_steps(small_X):
    pl = pytest.importorskip("polars")
    X = pl.DataFrame(small_X, schema=[f"pixel{i}" for i in range(small_X.shape[1])])
    pipe = make_pipeline(AutoencoderTransformer(8, **FAST), VAETransformer(2, **FAST))
    pipe.set_output(transform="polars")
    codes = pipe.fit_transform(X)
    assert isinstance(codes, pl.DataFrame)
    assert codes.columns == ["vaetransformer0", "vaetransformer1"]
    np.testing.assert_allclose(codes.to_numpy(), pipe.transform(X).to_numpy())


# ------------------------------------------------------------------ threads
def test_fits_in_threads_are_reproducible_and_leave_global_rng_alone(Est, small_X):
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global state itself)
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: Est(**FAST).fit(small_X), range(4)))
    reference = outputs(Est(**FAST).fit(small_X), small_X)
    for model in models:
        assert_same_outputs(outputs(model, small_X), reference)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_threaded_grid_search_equals_sequential(digits_split):
    X_train = digits_split[0][:600]
    grid = {"latent_dim": [1, 4, 8]}
    est = VAETransformer(hidden_layer_sizes=(32,), max_epochs=15, random_state=0)
    sequential = GridSearchCV(est, grid, cv=3).fit(X_train)
    with joblib.parallel_backend("threading", n_jobs=3):
        threaded = GridSearchCV(est, grid, cv=3, n_jobs=3).fit(X_train)
    assert threaded.best_params_ == sequential.best_params_
    np.testing.assert_allclose(threaded.cv_results_["mean_test_score"],
                               sequential.cv_results_["mean_test_score"])


def test_fit_uses_no_global_torch_random_state(small_X):
    """Global draws between fits change nothing (the fit owns its generators)."""
    torch.manual_seed(123)
    a = AutoencoderTransformer(**{**FAST, "early_stopping": False}).fit(small_X)
    torch.rand(1000)
    b = AutoencoderTransformer(**{**FAST, "early_stopping": False}).fit(small_X)
    assert_same_outputs(outputs(a, small_X), outputs(b, small_X))


# --------------------------------------------------------------- interrupts
def _interrupt_at_step(monkeypatch, step):
    """Make the ``step``-th training step raise KeyboardInterrupt, as Ctrl-C would."""
    original, calls = AutoencoderNet.train_step, {"n": 0}

    def train_step(self, batch, **fit_params):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        return original(self, batch, **fit_params)

    monkeypatch.setattr(AutoencoderNet, "train_step", train_step)


@pytest.mark.parametrize("step", [1, 7])
def test_ctrl_c_during_fit_reraises_and_keeps_the_previous_model(Est, small_X, monkeypatch,
                                                                 step):
    est = Est(**FAST).fit(small_X)
    before = outputs(est, small_X)
    attributes = dict(vars(est))
    _interrupt_at_step(monkeypatch, step)
    with pytest.raises(KeyboardInterrupt):
        _set(est, max_epochs=20).fit(small_X[:, ::-1].copy())
    assert {k: v for k, v in vars(est).items() if k != "max_epochs"} == {
        k: v for k, v in attributes.items() if k != "max_epochs"}
    assert_same_outputs(outputs(est, small_X), before)


def test_ctrl_c_on_a_fresh_estimator_leaves_it_unfitted(small_X, monkeypatch):
    _interrupt_at_step(monkeypatch, 3)
    est = AutoencoderTransformer(**FAST)
    with pytest.raises(KeyboardInterrupt):
        est.fit(small_X)
    assert not hasattr(est, "net_") and not hasattr(est, "n_features_in_")


def test_early_stopping_is_not_taken_for_an_interrupt(small_X):
    est = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=500, patience=2,
                                 random_state=0).fit(small_X)
    assert est.n_iter_ < 500
    assert est.n_iter_ == len(est.loss_curve_) == len(est.validation_loss_curve_)


# ---------------------------------------------------------------- divergence
def test_non_finite_validation_loss_is_an_error(small_X, monkeypatch):
    original = AutoencoderNet.validation_step

    def validation_step(self, batch, **fit_params):
        step = original(self, batch, **fit_params)
        return {**step, "loss": step["loss"] * float("inf")}

    monkeypatch.setattr(AutoencoderNet, "validation_step", validation_step)
    with pytest.raises(FloatingPointError, match="validation loss became .* lower lr"):
        AutoencoderTransformer(**FAST).fit(small_X)


def test_exploding_finite_loss_warns(small_X, monkeypatch):
    original = AutoencoderNet.train_step

    def train_step(self, batch, **fit_params):
        step = original(self, batch, **fit_params)
        return {**step, "loss": step["loss"] * 100.0 ** len(self.history)}

    monkeypatch.setattr(AutoencoderNet, "train_step", train_step)
    with pytest.warns(ConvergenceWarning, match="training loss grew .* Lower the learning"):
        AutoencoderTransformer(**FAST).fit(small_X)


def test_negative_losses_that_improve_do_not_warn():
    """A VAE's negative ELBO can be negative and fall a lot: no explosion."""
    from sklearn.datasets import load_wine

    X = load_wine().data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.filterwarnings("ignore", "max_epochs", ConvergenceWarning)
        est = VAETransformer(5, max_epochs=30, random_state=0).fit(X)
    assert min(est.loss_curve_) < 0


# ----------------------------------------------------------------- warnings
def test_max_epochs_reached_while_improving_warns(small_X):
    with pytest.warns(ConvergenceWarning, match="max_epochs=3 while the training loss"):
        AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=3, early_stopping=False,
                               random_state=0).fit(small_X)


def test_no_convergence_warning_when_early_stopping_ends_training(small_X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=500, patience=2,
                               random_state=0).fit(small_X)


# ------------------------------------------------------- set_params after fit
def test_set_params_after_fit_changes_nothing_until_the_next_fit(Est, small_X):
    est = Est(**FAST).fit(small_X)
    before = outputs(est, small_X)
    _set(est, loss="bce", latent_dim=5, hidden_layer_sizes=(8,), device="auto",
         architecture="conv", image_shape=(4, 4))
    assert_same_outputs(outputs(est, small_X), before)
    shifted = small_X * 3 - 1  # outside [0, 1]: still accepted by the MSE model
    assert np.isfinite(est.score_samples(shifted)).all()


# -------------------------------------------------------------- the fitted net
def test_fitted_net_is_a_well_behaved_skorch_estimator(Est, small_X):
    net = _net(Est(**FAST).fit(small_X))
    params = net.get_params()
    # skorch's own bookkeeping attribute is its business; skae adds none.
    assert not [key for key in params if key.startswith("_") and key != "_params_to_validate"]
    twin = clone(net)
    assert type(twin) is type(net) and not getattr(twin, "initialized_", False)
    assert set(twin.get_params(deep=False)) == set(net.get_params(deep=False))
    restored = pickle.loads(pickle.dumps(net))
    assert restored.noise_generator_.device == torch.device("cpu")
    restored.partial_fit(torch.from_numpy(small_X.astype(np.float32)), epochs=1)


# ------------------------------------------------------------- global state
@pytest.mark.parametrize("context", ["no_grad", "float64_default", "inference_mode"])
def test_fit_works_under_global_torch_settings_and_restores_them(Est, small_X, context):
    threads = torch.get_num_threads()
    previous = torch.get_default_dtype()
    if context == "float64_default":
        torch.set_default_dtype(torch.float64)
    try:
        manager = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode,
                   "float64_default": torch.enable_grad}[context]
        with manager():
            grad = torch.is_grad_enabled()
            est = Est(**FAST).fit(small_X)
            assert torch.is_grad_enabled() == grad
            assert torch.get_default_dtype() == (
                torch.float64 if context == "float64_default" else previous)
    finally:
        torch.set_default_dtype(previous)
    assert torch.get_num_threads() == threads
    assert next(_net(est).module_.parameters()).dtype == torch.float32
    assert_same_outputs(outputs(est, small_X), outputs(Est(**FAST).fit(small_X), small_X))


@pytest.mark.parametrize("bad", ["nan", "conv_shape"])
def test_failed_refit_leaves_the_previous_model_whole(Est, small_X, bad):
    est = Est(**FAST).fit(small_X)
    before, attributes = outputs(est, small_X), dict(vars(est))
    if bad == "nan":
        X = np.c_[small_X, small_X][:, :70].copy()
        X[0, 0] = np.nan
    else:
        X = np.c_[small_X, small_X][:, :70].copy()
        _set(est, architecture="conv", image_shape=(8, 8))
    with pytest.raises(ValueError):
        est.fit(X)
    assert est.n_features_in_ == 64
    assert {k: v for k, v in vars(est).items() if k not in ("architecture", "image_shape")} \
        == {k: v for k, v in attributes.items() if k not in ("architecture", "image_shape")}
    assert_same_outputs(outputs(est, small_X), before)


# -------------------------------------------------------------- VAE scoring
def test_vae_score_cost_and_size_do_not_grow_with_latent_dim(small_X):
    assert _moment_matched_draws(None, 1024).shape == (64, 1024)
    assert _moment_matched_draws(None, 4).shape == (16, 4)
    small = VAETransformer(latent_dim=2, **FAST).fit(small_X)
    large = VAETransformer(latent_dim=256, **FAST).fit(small_X)
    assert not [k for k in large.net_.module_.state_dict() if "eps" in k]
    # Weights and the optimizer's two moments: nothing of size latent_dim ** 2.
    weights = sum(p.numel() for p in large.net_.module_.parameters()) * 4
    assert len(pickle.dumps(large)) - len(pickle.dumps(small)) < 4 * weights
    assert np.isfinite(large.score_samples(small_X)).all()


def test_thread_of_fit_does_not_change_the_result(small_X):
    """A fit in a fresh thread equals one in the main thread."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        est=AutoencoderTransformer(**FAST).fit(small_X)))
    thread.start()
    thread.join()
    assert_same_outputs(outputs(result["est"], small_X),
                        outputs(AutoencoderTransformer(**FAST).fit(small_X), small_X))
