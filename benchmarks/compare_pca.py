"""Compare PCA, AutoencoderTransformer and VAETransformer on bundled real data.

Runs offline on scikit-learn's digits (X / 16, stratified 80/20 split,
random_state=0) and, with --tabular, on standardized breast cancer and wine.
Prints one table per dataset: 5-NN accuracy on test codes, test
reconstruction MSE per feature, fit time and transform throughput.

    python benchmarks/compare_pca.py [--latent-dims 2 10] [--tabular]
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, VAETransformer

METHODS = {
    "PCA": lambda d: PCA(d, random_state=0),
    "AutoencoderTransformer": lambda d: AutoencoderTransformer(d, random_state=0),
    "VAETransformer": lambda d: VAETransformer(d, random_state=0),
}


def evaluate(make, latent_dim, X_train, X_test, y_train, y_test):
    """Fit on the training rows; score codes and reconstructions of the test rows."""
    model = make(latent_dim)
    start = time.perf_counter()
    Z_train = model.fit_transform(X_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    Z_test = model.transform(X_test)
    rows_per_s = len(X_test) / (time.perf_counter() - start)
    knn = KNeighborsClassifier(5).fit(Z_train, y_train).score(Z_test, y_test)
    mse = float(np.mean((model.inverse_transform(Z_test) - X_test) ** 2))
    return {"knn": knn, "mse": mse, "fit_s": fit_s, "rows_per_s": rows_per_s}


def print_table(title, rows):
    print(f"\n{title}")
    print(f"{'method':<24}{'dim':>4}{'5-NN acc':>10}{'test MSE':>10}{'fit s':>8}"
          f"{'rows/s':>12}")
    for (name, dim), r in rows.items():
        print(f"{name:<24}{dim:>4}{r['knn']:>10.3f}{r['mse']:>10.4f}{r['fit_s']:>8.2f}"
              f"{r['rows_per_s']:>12,.0f}")


def digits(latent_dims):
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X / 16.0, y, test_size=0.2, stratify=y, random_state=0)
    rows = {(name, d): evaluate(make, d, *split)
            for d in latent_dims for name, make in METHODS.items()}
    print_table("digits (1797 x 64, X/16, 80/20 stratified split)", rows)


def tabular(latent_dim=5):
    print(f"\nstandardized tabular data, latent_dim={latent_dim}")
    print(f"{'dataset':<16}{'PCA MSE':>9}{'AE MSE':>9}{'ratio':>7}"
          f"{'PCA+LR acc':>12}{'AE+LR acc':>11}{'diff':>8}")
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for load in (load_breast_cancer, load_wine):
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=0)
        scaler = StandardScaler().fit(X_train)
        split = scaler.transform(X_train), scaler.transform(X_test), y_train, y_test
        pca = evaluate(METHODS["PCA"], latent_dim, *split)["mse"]
        ae = evaluate(METHODS["AutoencoderTransformer"], latent_dim, *split)["mse"]
        acc = {name: cross_val_score(make_pipeline(
            StandardScaler(), METHODS[name](latent_dim), LogisticRegression(max_iter=1000)),
            X, y, cv=cv).mean() for name in ("PCA", "AutoencoderTransformer")}
        diff = acc["AutoencoderTransformer"] - acc["PCA"]
        print(f"{load.__name__[5:]:<16}{pca:>9.4f}{ae:>9.4f}{ae / pca:>7.2f}"
              f"{acc['PCA']:>12.4f}{acc['AutoencoderTransformer']:>11.4f}{diff:>+8.4f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dims", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--tabular", action="store_true",
                        help="also compare on standardized breast cancer and wine")
    args = parser.parse_args(argv)
    digits(args.latent_dims)
    if args.tabular:
        tabular()


if __name__ == "__main__":
    main()
