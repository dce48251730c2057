"""Autoencoder against PCA on standardized tabular data (breast cancer, wine).

Test reconstruction MSE at latent_dim=5 (through ``skae.compare``, the main
job's code) and the 5-fold cross-validated accuracy of a StandardScaler ->
reducer -> LogisticRegression pipeline, which the main job does not measure.

    python benchmarks/tabular_pipelines.py [--latent-dim 5]
"""

from _harness import Table, parser
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.compare import compare
from skae.datasets import load_dataset


def main(argv=None):
    options = parser(__doc__)
    options.add_argument("--latent-dim", type=int, default=5)
    args = options.parse_args(argv)
    d = args.latent_dim
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    print(f"standardized tabular data, latent_dim={d}")
    table = Table([("dataset", 16, ""), ("PCA MSE", 9, ".4f"), ("AE MSE", 9, ".4f"),
                   ("ratio", 7, ".2f"), ("PCA+LR acc", 12, ".4f"), ("AE+LR acc", 11, ".4f"),
                   ("diff", 8, "+.4f")])
    for name, load in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        results, _ = compare(load_dataset(name), [d], methods=("PCA", "AutoencoderTransformer"),
                             progress=False)
        pca, ae = (r["mse"] for r in results)
        X, y = load(return_X_y=True)
        acc = [cross_val_score(make_pipeline(StandardScaler(), reducer,
                                             LogisticRegression(max_iter=1000)),
                               X, y, cv=cv).mean()
               for reducer in (PCA(d, random_state=0), AutoencoderTransformer(d, random_state=0))]
        table.row(name, pca, ae, ae / pca, acc[0], acc[1], acc[1] - acc[0])


if __name__ == "__main__":
    main()
