"""MNIST one-vs-rest anomaly detection: ROC AUC per digit.

For each digit: train on the training images of that digit only, score all
10,000 test images (that digit normal, the other nine anomalous), and compute
ROC AUC. Compares AutoencoderOutlierDetector with IsolationForest and PCA
reconstruction error at the same code size, all in one run. The published
reference for this protocol is Ruff et al., "Deep One-Class Classification"
(Deep SVDD), ICML 2018, Table 1; its preprocessing (global contrast
normalization) differs from the raw [0, 1] pixels used here.

    python benchmarks/bench_anomaly.py --mnist-dir DIR [--digits 0 1 ...]
"""

import numpy as np
from _harness import Table, parser, timed
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae.datasets import load_mnist


def pca_scores(X_train, X_test, n_components):
    pca = PCA(n_components, random_state=0).fit(X_train)
    recon = pca.inverse_transform(pca.transform(X_test))
    return -((recon - X_test) ** 2).mean(axis=1)


def main(argv=None):
    options = parser(__doc__, mnist=True)
    options.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    options.add_argument("--latent-dim", type=int, default=8)
    args = options.parse_args(argv)
    X_train, y_train = load_mnist(args.mnist_dir, "train")
    X_test, y_test = load_mnist(args.mnist_dir, "test")

    methods = {
        "AutoencoderOutlierDetector": lambda X, T: AutoencoderOutlierDetector(
            AutoencoderTransformer(args.latent_dim, random_state=0)).fit(X).score_samples(T),
        "IsolationForest": lambda X, T: IsolationForest(random_state=0).fit(X).score_samples(T),
        f"PCA({args.latent_dim}) error": lambda X, T: pca_scores(X, T, args.latent_dim),
    }
    auc_table = Table([("digit", 7, "")] + [(name, 28, ".4f") for name in methods])
    aucs = {name: [] for name in methods}
    seconds = {name: 0.0 for name in methods}
    for digit in args.digits:
        normal_train = X_train[y_train == digit]
        anomalous = (y_test != digit).astype(int)
        for name, score in methods.items():
            spent, normality = timed(score, normal_train, X_test)
            seconds[name] += spent
            aucs[name].append(roc_auc_score(anomalous, -normality))
        auc_table.row(str(digit), *(a[-1] for a in aucs.values()))
    auc_table.row("mean", *(np.mean(a) for a in aucs.values()))
    print(f"{'time s':<7}" + "".join(f"{t:>28.1f}" for t in seconds.values()))


if __name__ == "__main__":
    main()
