"""Imputation: AutoencoderImputer against scikit-learn's imputers, and a ratings matrix.

    python benchmarks/bench_imputation.py [--mnist-dir DIR] [--mnist-rows 10000] [--masks 3]
        [--data digits breast_cancer wine mnist] [--skip-ratings]

First table: each dataset with a fraction of its entries hidden completely at
random (``skae.datasets.hide_at_random``, seeds 0 to ``--masks`` - 1), every
imputer fitted on the data with holes (``random_state`` the mask's seed);
RMSE on the hidden entries (the mean over the masks, and its range) and wall
seconds of ``fit_transform`` (the mean). digits is scaled to [0, 1], breast_cancer and wine are
standardized, MNIST (when its directory is given) is the first
``--mnist-rows`` training images in [0, 1] (``IterativeImputer`` there in
3 rounds over the 50 most correlated columns: all 784 take too long).

Second table: ``skae.datasets.synthetic_ratings`` (1,000 users x 200 items,
rank 5, 10% of ratings observed, noise 0.3 so 0.3 is the best RMSE possible);
a fifth of the observed ratings is held out and predicted. The truncated-SVD
baseline (hard-impute) is shown at the true rank and at the rank a
validation split picks.
"""

import warnings

import numpy as np
from _harness import Table, parser, timed
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderImputer
from skae.datasets import hide_at_random, load_mnist, svd_impute, synthetic_ratings


def rmse(X, X_filled, hidden):
    return float(np.sqrt(np.mean((X[hidden] - X_filled[hidden]) ** 2)))



def datasets(args):
    small = {"digits": lambda: load_digits().data / 16,
             "breast_cancer": lambda: StandardScaler().fit_transform(load_breast_cancer().data),
             "wine": lambda: StandardScaler().fit_transform(load_wine().data)}
    for name, load in small.items():
        if name in args.data:
            yield name, load()
    if args.mnist_dir and "mnist" in args.data:
        X, _ = load_mnist(args.mnist_dir, "train")
        yield f"MNIST {args.mnist_rows}", X[:args.mnist_rows]


def imputers(n_features, seed):
    yield "mean", SimpleImputer()
    yield "KNNImputer", KNNImputer()
    # Chained regressions over all 784 MNIST columns took more than 15 minutes
    # here: on wide data, 3 rounds over the 50 most correlated columns each.
    wide = n_features > 100
    yield "IterativeImputer", IterativeImputer(
        random_state=seed, n_nearest_features=50 if wide else None, max_iter=3 if wide else 10)
    yield "AutoencoderImputer", AutoencoderImputer(random_state=seed)


def imputation_table(args):
    table = Table([("data", 14, ""), ("missing", 9, ""), ("method", 20, ""),
                   ("RMSE", 7, ".3f"), ("  range", 15, ""), ("fit_transform s", 17, ".1f")])
    for name, X in datasets(args):
        for rate in (0.2, 0.5):
            runs = {}
            for seed in range(args.masks):
                X_missing, hidden = hide_at_random(X, rate, random_state=seed)
                for method, imputer in imputers(X.shape[1], seed):
                    seconds, filled = timed(imputer.fit_transform, X_missing)
                    runs.setdefault(method, []).append((rmse(X, filled, hidden), seconds))
            for method, results in runs.items():
                errors, seconds = np.asarray(results).T
                table.row(name, f"{rate:.0%}", method, errors.mean(),
                          f"  {errors.min():.3f}-{errors.max():.3f}", seconds.mean())


def ratings_table():
    ratings, observed = synthetic_ratings(random_state=0)
    held_out = observed & (np.random.default_rng(1).random(observed.shape) < 0.2)
    X = np.where(observed & ~held_out, ratings, np.nan)
    # The SVD's rank picked on a validation fifth of the training ratings.
    valid = ~np.isnan(X) & (np.random.default_rng(2).random(X.shape) < 0.2)
    X_fit = np.where(valid, np.nan, X)
    best = min(range(1, 21), key=lambda k: rmse(ratings, svd_impute(X_fit, k), valid))
    table = Table([("method", 36, ""), ("held-out RMSE", 15, ".3f"), ("s", 7, ".1f")])
    for method, fn in [
            ("mean", SimpleImputer().fit_transform),
            ("KNNImputer", KNNImputer().fit_transform),
            ("truncated SVD, true rank 5", lambda X: svd_impute(X, 5)),
            (f"truncated SVD, validated rank {best}", lambda X: svd_impute(X, best)),
            ("AutoencoderImputer()", AutoencoderImputer(random_state=0).fit_transform),
            ("AutoencoderImputer(lr=3e-4)",
             AutoencoderImputer(lr=3e-4, random_state=0).fit_transform)]:
        seconds, filled = timed(fn, X)
        table.row(method, rmse(ratings, filled, held_out), seconds)


def main():
    p = parser(__doc__, mnist=True)
    p.add_argument("--mnist-rows", type=int, default=5_000)
    p.add_argument("--masks", type=int, default=1, help="masks per dataset and rate")
    p.add_argument("--data", nargs="+", default=["digits", "breast_cancer", "wine", "mnist"],
                   help="datasets of the first table (mnist needs --mnist-dir)")
    p.add_argument("--skip-ratings", action="store_true", help="no ratings table")
    args = p.parse_args()
    warnings.simplefilter("ignore")  # IterativeImputer's convergence warnings
    imputation_table(args)
    if not args.skip_ratings:
        print()
        ratings_table()


if __name__ == "__main__":
    main()
