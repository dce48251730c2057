"""AutoencoderImputer: an imputer as scikit-learn's are, that fills holes
better than they do. ``benchmarks/bench_imputation.py`` prints the table."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderImputer, AutoencoderTransformer, VAETransformer
from skae.datasets import hide_at_random, svd_impute, synthetic_ratings

FAST = dict(max_epochs=3, hidden_layer_sizes=(16,), latent_dim=8, random_state=0)


def _rmse(X, X_filled, hidden):
    return float(np.sqrt(np.mean((X[hidden] - X_filled[hidden]) ** 2)))


@pytest.fixture(scope="module")
def holed(small_X):
    return hide_at_random(small_X, 0.2, random_state=0)


# ---------------------------------------------------------------- the API
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fills_every_hole_and_keeps_observed_values_exactly(holed, dtype):
    X_missing, hidden = holed
    X_missing = X_missing.astype(dtype)
    filled = AutoencoderImputer(**FAST).fit(X_missing).transform(X_missing)
    assert filled.dtype == dtype and filled.shape == X_missing.shape
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[~hidden], X_missing[~hidden])


def test_a_numeric_placeholder_marks_missing_values(holed):
    X_missing, hidden = holed
    X_placeholder = np.where(hidden, -1.0, X_missing)
    filled = AutoencoderImputer(missing_values=-1, **FAST).fit_transform(X_placeholder)
    expected = AutoencoderImputer(**FAST).fit_transform(X_missing)
    np.testing.assert_allclose(filled, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="missing_values=np.nan"):
        AutoencoderImputer(missing_values=-1, **FAST).fit(X_missing)


def test_add_indicator_feature_names_and_pandas_output(holed):
    X_missing, hidden = holed
    frame = pd.DataFrame(X_missing, columns=[f"px{i}" for i in range(64)])
    imputer = AutoencoderImputer(add_indicator=True, **FAST).set_output(transform="pandas")
    out = imputer.fit_transform(frame)
    with_holes = hidden.any(axis=0)
    assert isinstance(out, pd.DataFrame)
    assert out.shape == (300, 64 + with_holes.sum())
    names = imputer.get_feature_names_out()
    assert list(out.columns) == list(names)
    assert names[0] == "px0" and names[64].startswith("missingindicator_px")
    np.testing.assert_array_equal(out.iloc[:, 64:].to_numpy(), hidden[:, with_holes])


@pytest.mark.parametrize("keep", [False, True])
def test_columns_without_observed_values_are_dropped_or_kept_as_sklearn_does(holed, keep):
    X_missing = holed[0].copy()
    X_missing[:, 3] = np.nan
    imputer = AutoencoderImputer(keep_empty_features=keep, **FAST)
    ours = imputer.fit_transform(X_missing)
    theirs = SimpleImputer(keep_empty_features=keep).fit_transform(X_missing)
    assert ours.shape == theirs.shape
    assert len(imputer.get_feature_names_out()) == ours.shape[1]
    if keep:
        np.testing.assert_array_equal(ours[:, 3], 0.0)


def test_a_column_missing_from_whole_batches_trains_and_is_filled(holed):
    X_missing = holed[0].copy()
    X_missing[:200, 10] = np.nan  # absent from the first batches altogether
    imputer = AutoencoderImputer(batch_size=32, **FAST).fit(X_missing)
    assert np.isfinite(imputer.loss_curve_).all()
    assert np.isfinite(imputer.transform(X_missing)).all()


def test_bad_input_is_a_clear_error(holed):
    X_missing = holed[0].copy()
    X_missing[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        AutoencoderImputer(**FAST).fit(X_missing)
    imputer = AutoencoderImputer(**FAST).fit(holed[0])
    with pytest.raises(ValueError, match="64 features"):
        imputer.transform(holed[0][:, :10])
    with pytest.raises(ValueError, match="noise"):
        AutoencoderImputer(noise=1.0).fit(holed[0])


def test_seeded_fits_repeat_and_leave_global_state_alone(holed):
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global state itself)
    a = AutoencoderImputer(**FAST).fit_transform(holed[0])
    b = clone(AutoencoderImputer(**FAST)).fit_transform(holed[0])
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(numpy_state, np.random.get_state()[1])  # noqa: NPY002


def test_the_untrained_start_imputes_column_means(holed):
    X_missing, _ = holed
    # With a code as wide as the rows, the linear start is the identity on
    # the observed values: the column means fill the holes.
    imputer = AutoencoderImputer(**{**FAST, "latent_dim": 64}).fit(X_missing)
    imputer.net_ = imputer._start(X_missing)  # fresh weights at the linear start
    np.testing.assert_allclose(imputer.transform(X_missing),
                               SimpleImputer().fit_transform(X_missing), atol=1e-5)


def test_raw_columns_of_any_scale_are_imputed_no_worse_than_the_mean():
    X = load_wine().data  # columns from 0.1 to 1,000, no scaler
    X_missing, hidden = hide_at_random(X, 0.2, random_state=0)
    ours = AutoencoderImputer(max_epochs=60, random_state=0).fit_transform(X_missing)
    mean = SimpleImputer().fit_transform(X_missing)
    sd = X.std(axis=0)
    # Errors in each column's own units, relative to its spread.
    assert _rmse(X / sd, ours / sd, hidden) <= _rmse(X / sd, mean / sd, hidden)


def test_pipelines_impute_then_reduce(holed):
    pipe = make_pipeline(AutoencoderImputer(**FAST), AutoencoderTransformer(2, max_epochs=2))
    assert pipe.fit_transform(holed[0]).shape == (300, 2)


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_transformers_refusing_nan_point_to_the_imputer(Est, holed):
    with pytest.raises(ValueError, match="AutoencoderImputer"):
        Est(max_epochs=1).fit(holed[0])
    fitted = Est(max_epochs=1).fit(np.nan_to_num(holed[0]))
    for method in (fitted.transform, fitted.score_samples):
        with pytest.raises(ValueError, match="AutoencoderImputer"):
            method(holed[0])


# ------------------------------------------------------------- the quality
def _standardized(load):
    return StandardScaler().fit_transform(load().data)


_DATA = {"digits": lambda: load_digits().data / 16, "breast_cancer":
         lambda: _standardized(load_breast_cancer), "wine": lambda: _standardized(load_wine)}


@pytest.mark.quality
@pytest.mark.parametrize("name, rate, slack", [
    ("digits", 0.2, 1.0), ("digits", 0.5, 1.0), ("breast_cancer", 0.2, 1.05),
    ("wine", 0.2, 1.05)])
def test_imputes_better_than_knn_and_iterative_imputers(name, rate, slack):
    X = _DATA[name]()
    X_missing, hidden = hide_at_random(X, rate, random_state=0)
    ours = _rmse(X, AutoencoderImputer(random_state=0).fit_transform(X_missing), hidden)
    knn = _rmse(X, KNNImputer().fit_transform(X_missing), hidden)
    iterative = _rmse(X, IterativeImputer(random_state=0).fit_transform(X_missing), hidden)
    mean = _rmse(X, SimpleImputer().fit_transform(X_missing), hidden)
    assert ours <= slack * min(knn, iterative), (ours, knn, iterative)
    assert ours < mean


@pytest.mark.quality
def test_a_classifier_on_imputed_digits_beats_mean_imputation():
    X, y = load_digits(return_X_y=True)
    X_missing, _ = hide_at_random(X / 16, 0.3, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X_missing, y, test_size=0.25,
                                                        stratify=y, random_state=0)
    scores = {}
    for name, imputer in (("ours", AutoencoderImputer(random_state=0)),
                          ("mean", SimpleImputer())):
        pipe = make_pipeline(imputer, LogisticRegression(max_iter=2000))
        scores[name] = pipe.fit(X_train, y_train).score(X_test, y_test)
    assert scores["ours"] > scores["mean"], scores



@pytest.mark.quality
def test_ratings_predicts_held_out_ratings_better_than_knn_and_rank_tuned_svd_is_reported():
    ratings, observed = synthetic_ratings(random_state=0)
    held_out = observed & (np.random.default_rng(1).random(observed.shape) < 0.2)
    X = np.where(observed & ~held_out, ratings, np.nan)
    ours = _rmse(ratings, AutoencoderImputer(lr=3e-4, random_state=0).fit_transform(X),
                 held_out)
    knn = _rmse(ratings, KNNImputer().fit_transform(X), held_out)
    mean = _rmse(ratings, SimpleImputer().fit_transform(X), held_out)
    svd_true_rank = _rmse(ratings, svd_impute(X, 5), held_out)
    assert ours < 0.7 * knn and ours < 0.7 * mean
    # A truncated SVD told the true rank is the better model of a low-rank
    # matrix; the autoencoder is within 1.4 times of it without being told.
    assert svd_true_rank < ours < 1.4 * svd_true_rank


# ------------------------------------------------- one product with the others
def test_the_imputer_trains_by_the_shared_policy(holed):
    from sklearn.exceptions import ConvergenceWarning

    X_missing, _ = holed
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        imputer = AutoencoderImputer(**{**FAST, "max_epochs": 2}).fit(X_missing)
    # batch_size and lr "auto": 64 rows and 1e-3 on small data.
    assert imputer.net_.batch_size == 64 and imputer.net_.lr == pytest.approx(1e-3)
    plateau = AutoencoderImputer(lr_schedule="plateau", **FAST).fit(X_missing)
    assert "lr_schedule" in dict(plateau.net_.callbacks_)
    bf16 = AutoencoderImputer(precision="bf16", **FAST).fit_transform(X_missing)
    assert np.isfinite(bf16).all()


def test_held_out_entries_are_fixed_per_entry_and_never_trained_on(holed):
    from skae._holdout import EntrySplit

    X = torch.as_tensor(holed[0], dtype=torch.float32)
    split = EntrySplit(0.1, seed=3)
    rows = torch.arange(len(X))
    kept, held_out = split.split(X, rows)
    again = split.split(X[50:80], rows[50:80])  # another batch: the same entries
    torch.testing.assert_close(again[0], kept[50:80], equal_nan=True)
    observed = ~torch.isnan(X)
    share = float((~torch.isnan(held_out)).sum() / observed.sum())
    assert 0.08 < share < 0.12
    assert not (~torch.isnan(kept) & ~torch.isnan(held_out)).any()


def test_inverse_transform_puts_the_holes_back(holed):
    X_missing, _ = holed
    plain = AutoencoderImputer(**FAST).fit(X_missing)
    with pytest.raises(ValueError, match="add_indicator=True"):
        plain.inverse_transform(plain.transform(X_missing))
    imputer = AutoencoderImputer(add_indicator=True, missing_values=-1, **FAST)
    X_placeholder = np.where(np.isnan(X_missing), -1.0, X_missing)
    back = imputer.inverse_transform(imputer.fit_transform(X_placeholder))
    np.testing.assert_array_equal(back, X_placeholder)


def test_images_are_imputed_by_convolutions_over_values_and_mask(holed):
    X_missing, _ = holed
    imputer = AutoencoderImputer(architecture="conv", image_shape=(8, 8), conv_channels=(4,),
                                 **FAST).fit(X_missing)
    # The values and the mask of observed pixels are two planes of one image.
    assert imputer.net_.module_.encoder_body[0].unflattened_size == (2, 8, 8)
    assert np.isfinite(imputer.transform(X_missing)).all()


def test_the_loss_checks_the_observed_values(holed):
    X_missing, _ = holed
    with pytest.raises(ValueError, match=r"loss='bce' needs X in \[0, 1\]"):
        AutoencoderImputer(loss="bce", **FAST).fit(X_missing * 3)
    imputer = AutoencoderImputer(loss="bce", **FAST).fit(X_missing)
    filled = imputer.transform(X_missing)
    assert ((filled >= 0) & (filled <= 1)).all()
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        imputer.transform(X_missing * 3)
