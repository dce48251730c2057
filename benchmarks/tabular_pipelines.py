"""Autoencoder against PCA on standardized tabular data (breast cancer, wine).

Test reconstruction MSE at latent_dim=5 (through ``skae.compare``, the main
job's code) and the 5-fold cross-validated accuracy of a StandardScaler ->
reducer -> LogisticRegression pipeline, which the main job does not measure.

    python benchmarks/tabular_pipelines.py [--latent-dim 5]
"""

import argparse

from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.compare import compare, load_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", type=int, default=5)
    args = parser.parse_args(argv)
    d = args.latent_dim
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    print(f"standardized tabular data, latent_dim={d}")
    print(f"{'dataset':<16}{'PCA MSE':>9}{'AE MSE':>9}{'ratio':>7}"
          f"{'PCA+LR acc':>12}{'AE+LR acc':>11}{'diff':>8}")
    for name, load in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        results, _ = compare(load_dataset(name), [d], methods=("PCA", "AutoencoderTransformer"),
                             progress=False)
        pca, ae = (r["mse"] for r in results)
        X, y = load(return_X_y=True)
        acc = [cross_val_score(make_pipeline(StandardScaler(), reducer,
                                             LogisticRegression(max_iter=1000)),
                               X, y, cv=cv).mean()
               for reducer in (PCA(d, random_state=0), AutoencoderTransformer(d, random_state=0))]
        print(f"{name:<16}{pca:>9.4f}{ae:>9.4f}{ae / pca:>7.2f}"
              f"{acc[0]:>12.4f}{acc[1]:>11.4f}{acc[1] - acc[0]:>+8.4f}")


if __name__ == "__main__":
    main()
