"""scikit-learn's own estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    VAETransformer,
)

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# behaviour under test does not depend on model size.
_SMALL = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=16)


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
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
