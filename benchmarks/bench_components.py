"""How many dimensions: one ordered fit against a dedicated fit per width.

    python benchmarks/bench_components.py [--data digits breast_cancer mnist]
        [--mnist-dir DIR] [--skip-fractions]

For each data set (``skae.datasets.load_dataset``: digits, its 80/20 split;
breast_cancer, standardized with the training rows' statistics; MNIST, its
60,000 / 10,000 split), with every estimator at its defaults
(``random_state=0``) and every error on the test rows, in one process:

1. Prefixes: one ``AutoencoderTransformer(latent_dim=K, ordered=True)``
   (K = 30 on digits, 20 on breast_cancer's 30 columns, 64 on MNIST); for
   k in {1, 2, 3, 5, 10, 20, K}, the test MSE of ``truncate(k)``'s reconstruction against
   that of a dedicated ``AutoencoderTransformer(latent_dim=k)`` and of
   ``PCA(k)``.
2. Time: the ordered fit's seconds against the dedicated fit at K's, and
   against the seven dedicated fits together.
3. Fractions: ``latent_dim=0.9`` and ``0.95``: the width each chose (from
   its validation rows), against the smallest dedicated fit whose test R²
   (``r2_score(..., multioutput="variance_weighted")``) reaches the
   fraction (a bisection over k up to PCA's choice, dedicated fits cached)
   and PCA's choice (from its training variance, as ``PCA(fraction)``).
4. Linear: ``explained_variance_ratio_`` of a linear ordered model
   (``hidden_layer_sizes=()``, ``activation="identity"``) against PCA's own
   ratios and against PCA's R² on the same held-out rows (digits).

Fit seconds leave out torch's one-time start-up (a small fit runs first).
"""

import time
import warnings

import numpy as np
from _harness import Table, parser, timed
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer
from skae._ordered import validation_rows
from skae.datasets import load_dataset

WIDTH = {"digits": 30, "breast_cancer": 20, "mnist": 64}
PREFIXES = (1, 2, 3, 5, 10, 20)


def mse(model, X):
    """Test MSE of ``model``'s reconstruction of X (per entry)."""
    return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))


def r2(error, X):
    """R² of a reconstruction of MSE ``error`` (variance-weighted)."""
    return 1.0 - error / float(np.mean((X - X.mean(axis=0)) ** 2))


class Dedicated:
    """Dedicated default fits, one per width, fitted once and cached."""

    def __init__(self, data):
        self.data, self.fits = data, {}

    def __call__(self, k):
        if k not in self.fits:
            seconds, model = timed(AutoencoderTransformer(latent_dim=k, random_state=0).fit,
                                   self.data.X_train)
            self.fits[k] = (seconds, mse(model, self.data.X_test))
        return self.fits[k]

    def smallest_reaching(self, fraction, high):
        """The smallest width whose test R² reaches ``fraction`` (bisection
        over [1, high]; ``high`` if none does)."""
        low = 1
        while low < high:
            mid = (low + high) // 2
            if r2(self(mid)[1], self.data.X_test) >= fraction:
                high = mid
            else:
                low = mid + 1
        return low


def prefixes(data, width, dedicated):
    print(f"\n## {data.name}: prefixes of one ordered fit (K={width}), test MSE")
    seconds, ordered = timed(AutoencoderTransformer(latent_dim=width, ordered=True,
                                                    random_state=0).fit, data.X_train)
    table = Table([("k", 4, "d"), ("PCA", 10, ".5f"), ("dedicated", 11, ".5f"),
                   ("ordered", 10, ".5f"), ("ordered/dedicated", 19, ".3f"),
                   ("ordered/PCA", 13, ".3f")])
    widths = sorted({*(k for k in PREFIXES if k < width), width})
    for k in widths:
        pca = PCA(k).fit(data.X_train)
        own = dedicated(k)[1]
        prefix = mse(ordered.truncate(k), data.X_test)
        table.row(k, mse(pca, data.X_test), own, prefix, prefix / own,
                  prefix / mse(pca, data.X_test))
    single = dedicated(width)[0]
    every = sum(dedicated(k)[0] for k in widths)
    print(f"\nordered fit {seconds:.1f} s ({ordered.n_iter_} epochs); dedicated fit at "
          f"K {single:.1f} s: ratio {seconds / single:.2f}; the {len(widths)} dedicated fits "
          f"{every:.1f} s: {every / seconds:.1f}x the ordered fit")
    return ordered


def fractions(data, dedicated):
    print(f"\n## {data.name}: latent_dim as a fraction of the variance")
    table = Table([("fraction", 10, ".2f"), ("chosen k", 10, "d"), ("fit s", 8, ".1f"),
                   ("its test R2", 13, ".4f"), ("dedicated k", 13, "d"),
                   ("PCA k", 7, "d")])
    pca = np.cumsum(PCA().fit(data.X_train).explained_variance_ratio_)
    for fraction in (0.9, 0.95):
        seconds, model = timed(AutoencoderTransformer(latent_dim=fraction,
                                                      random_state=0).fit, data.X_train)
        table.row(fraction, model.n_components_, seconds, r2(mse(model, data.X_test),
                                                             data.X_test),
                  dedicated.smallest_reaching(fraction, int(np.searchsorted(pca, fraction) + 1)),
                  int(np.searchsorted(pca, fraction) + 1))


def linear(data, width):
    print(f"\n## {data.name}: a linear ordered model's explained_variance_ratio_ against PCA")
    model = AutoencoderTransformer(latent_dim=width, ordered=True, hidden_layer_sizes=(),
                                   activation="identity", random_state=0).fit(data.X_train)
    pca = PCA(width).fit(data.X_train)
    ours = model.explained_variance_ratio_
    # PCA's R² on the rows the model measured on: its validation rows.
    rows = validation_rows(model.net_.train_split, data.X_train)
    held = [r2(mse(PCA(k).fit(data.X_train), rows), rows) for k in range(1, width + 1)]
    print(f"max |ratio - PCA.explained_variance_ratio_| = "
          f"{np.abs(ours - pca.explained_variance_ratio_).max():.4f}; "
          f"max |cumulative - PCA's held-out R2| = {np.abs(np.cumsum(ours) - held).max():.4f} "
          f"({len(rows)} held-out rows, {model.n_iter_} epochs)")


def main():
    p = parser(__doc__, mnist=True)
    p.add_argument("--data", nargs="+", default=["digits", "breast_cancer", "mnist"])
    p.add_argument("--skip-fractions", action="store_true")
    args = p.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    # torch's one-time start-up (thread pools, kernels) is not part of a fit.
    AutoencoderTransformer(1, hidden_layer_sizes=(4,), max_epochs=1, random_state=0).fit(
        load_dataset("digits").X_train[:64])
    for name in args.data:
        if name == "mnist" and not args.mnist_dir:
            print("\n## mnist: skipped (no --mnist-dir or $SKAE_MNIST_DIR)")
            continue
        start = time.perf_counter()
        data = load_dataset(name, mnist_dir=args.mnist_dir)
        width, dedicated = WIDTH[name], Dedicated(data)
        prefixes(data, width, dedicated)
        if not args.skip_fractions:
            fractions(data, dedicated)
        if name == "digits":
            linear(data, width)
        print(f"({name}: {time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()
