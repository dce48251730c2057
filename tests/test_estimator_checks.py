"""scikit-learn's own estimator checks: no expected failures, but for the
recommender the checks whose data cannot be (user, item) pairs."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderRecommender,
    AutoencoderTransformer,
    VAETransformer,
)

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# behaviour under test does not depend on model size.
_SMALL = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=16)

#: The checks that fit on data of other than two columns (3 to 10 random
#: numbers per row, a 1-D X, or NaN and negative numbers as ids): a
#: recommender's X is (user, item) pairs, so each gets the error that says so.
#: The other checks (cloning, parameters, fit idempotence and
#: reproducibility, empty data and one-feature messages, complex data,
#: tags...) run and pass.
_NOT_PAIRS = {name: "its X is not (user, item) pairs" for name in (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_nan_inf", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_n_features_in_after_fitting",
    "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_regressor_data_not_an_array", "check_regressors_int",
    "check_regressors_no_decision_function", "check_regressors_train",
    "check_supervised_y_2d")}


@parametrize_with_checks(
    [
        AutoencoderTransformer(**_SMALL),
        AutoencoderTransformer(**_SMALL, noise=0.1, early_stopping=False),
        AutoencoderTransformer(**_SMALL, structure="umap", n_neighbors=5, transform_neighbors=3),
        VAETransformer(**_SMALL),
        VAETransformer(**_SMALL, loss="mse", beta=0.5, early_stopping=False),
        AutoencoderOutlierDetector(AutoencoderTransformer(8, **_SMALL)),
        AutoencoderOutlierDetector(VAETransformer(**_SMALL), contamination=0.1),
        AutoencoderImputer(**_SMALL, latent_dim=4),
        AutoencoderImputer(**_SMALL, latent_dim=4, add_indicator=True, early_stopping=False),
        AutoencoderRecommender(**_SMALL, latent_dim=4),
    ],
    expected_failed_checks=lambda est: _NOT_PAIRS if isinstance(
        est, AutoencoderRecommender) else {},
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
