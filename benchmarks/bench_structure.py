"""Maps: PCA, UMAP and skae's autoencoders with structure="umap", side by side.

    python benchmarks/bench_structure.py [--mnist-dir DIR] [--sizes 20000 60000]
                                         [--inverse-rows 1000] [--plot PATH]
    python benchmarks/bench_structure.py --mnist-dir DIR --large [--sizes ...]

2-d codes of held-out rows, one process, each method with its defaults:
5-NN accuracy (trained on the training rows' codes), trustworthiness (10
neighbours), wall seconds of ``fit`` and of ``transform`` of the held-out
rows; "inverse MSE" is the mean squared error of
``inverse_transform(transform(X))`` on the first ``--inverse-rows`` held-out
rows (their "inverse s" the time of ``inverse_transform`` alone). digits:
1,437 training / 360 test rows (stratified, seed 0); MNIST (when its
directory is given): the first ``--sizes`` training images (20,000 and 60,000
by default) and the 10,000 test images. UMAP (umap-learn, if installed):
``UMAP(random_state=0)``, which runs on one thread (reproducible, as skae's
seeded fits are), and ``UMAP()``, which runs on every core (its inverse is
not timed again); its one-time numba
compilation (of its fit, transform and inverse for float32 and float64 rows,
and of the nearest-neighbour descent that larger data takes) is done before
timing, as is torch's start-up. The skae maps are
``AutoencoderTransformer(2, structure="umap", transform_neighbors=15)``
(``tol=0``: the knob for the best inverse) and the same ``VAETransformer``;
"AutoencoderTransformer" is a plain 2-d autoencoder (no structure).

``--large``: the map's cost as rows grow, skae alone: for each size (MNIST's
training images, then shifted copies of them one pixel right, down and left,
up to 240,000 rows), the seconds of the neighbour graph (principal axes,
exact search) and of the layout, then of the whole default fit, and the
process's peak resident memory after it.

``--plot`` saves the 2-d test codes of UMAP and of the structure autoencoder
(placed among the layout, and its encoder alone) for the last MNIST size.
"""

import importlib.util
import itertools
import resource
import warnings

import numpy as np
import torch
from _harness import Table, parser, timed
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer, VAETransformer
from skae._structure import (
    layout_epochs,
    nearest_neighbours,
    neighbour_space,
    optimize_layout,
    symmetric_graph,
)
from skae.datasets import load_mnist

HAS_UMAP = importlib.util.find_spec("umap") is not None


def datasets(args):
    X, y = load_digits(return_X_y=True)
    yield ("digits", *train_test_split((X / 16).astype(np.float32), y, test_size=0.2,
                                       stratify=y, random_state=0))
    if args.mnist_dir:
        X_train, y_train = load_mnist(args.mnist_dir, "train")
        X_test, y_test = load_mnist(args.mnist_dir, "test")
        for n in args.sizes:
            yield f"MNIST {n // 1000}k/10k", X_train[:n], X_test, y_train[:n], y_test


def methods():
    """``(name, make, inverse)``: ``make`` None measures the model above's
    encoder alone; ``inverse``, whether its ``inverse_transform`` is timed."""
    yield "PCA", lambda: PCA(2, random_state=0), True
    if HAS_UMAP:
        import umap

        yield "UMAP(random_state=0)", lambda: umap.UMAP(random_state=0), True
        # (its inverse_transform is the one above's: not timed twice)
        yield "UMAP() on all cores", lambda: umap.UMAP(), False
    yield "AutoencoderTransformer", lambda: AutoencoderTransformer(2, random_state=0), True
    structure = dict(structure="umap", transform_neighbors=15, random_state=0)
    yield "AE structure='umap'", lambda: AutoencoderTransformer(2, **structure), True
    yield "  encoder alone", None, True  # the same model, transform_neighbors=None
    yield "AE structure, tol=0", lambda: AutoencoderTransformer(2, tol=0, **structure), True
    yield "VAE structure='umap'", lambda: VAETransformer(2, **structure), True


def warm_up():
    """UMAP's numba compilation and torch's start-up, outside the timings."""
    rng = np.random.default_rng(0)
    if HAS_UMAP:
        import umap

        for dtype, rows, seed in itertools.product((np.float32, np.float64), (1000, 4500),
                                                   (0, None)):
            data = rng.random((rows + 10, 60)).astype(dtype)  # > 4,096 rows: NN-descent
            model = umap.UMAP(random_state=seed, n_epochs=5).fit(data[:rows])
            model.inverse_transform(model.transform(data[rows:]))
    AutoencoderTransformer(2, max_epochs=1, structure="umap").fit(rng.random((300, 70)))


def measure(model, data, inverse_rows, fit=True, inverse=True):
    X_train, X_test, y_train, y_test = data
    fit_s = timed(model.fit, X_train)[0] if fit else 0.0
    if not fit:  # the encoder of the fitted model above
        model._neighbours = None
    transform_s, codes = timed(model.transform, X_test)
    train_codes = model.embedding_ if hasattr(model, "embedding_") and fit else \
        model.transform(X_train)
    knn = KNeighborsClassifier(5).fit(train_codes, y_train).score(codes, y_test)
    trust = trustworthiness(X_test, codes, n_neighbors=10)
    rows = slice(0, inverse_rows)
    if inverse:
        inverse_s, back = timed(model.inverse_transform, codes[rows])
        mse = float(np.mean((np.asarray(back, np.float64) - X_test[rows]) ** 2))
    else:
        inverse_s = mse = None
    return (knn, trust, fit_s, transform_s, mse, inverse_s), codes


def plot(path, codes, y):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(codes), figsize=(5 * len(codes), 5))
    for ax, (name, Z) in zip(np.atleast_1d(axes), codes.items(), strict=True):
        ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=2)
        ax.set_title(name, fontsize=10)
        ax.set(xticks=[], yticks=[])
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def compare(args):
    warm_up()
    table = Table([("data", 15, ""), ("method", 24, ""), ("kNN5", 7, ".3f"),
                   ("trust", 7, ".3f"), ("fit s", 8, ".1f"), ("transform s", 12, ".3f"),
                   ("inverse MSE", 12, ".5f"), ("inverse s", 10, ".2f")])
    for name, *data in datasets(args):
        shown, model = {}, None
        for method, make, inverse in methods():
            fresh = make is not None
            model = make() if fresh else model
            values, codes = measure(model, data, args.inverse_rows, fit=fresh, inverse=inverse)
            table.row(name, method, *values)
            if method == "UMAP(random_state=0)":
                shown["UMAP"] = codes
            elif method == "AE structure='umap'":
                shown["skae, structure='umap', transform_neighbors=15"] = codes
            elif method == "  encoder alone":
                shown["the same model's encoder alone"] = codes
        if args.plot and name.startswith("MNIST"):
            plot(args.plot, shown, data[3])


def shifted(X):
    """X's rows, then its copies shifted one pixel right, down and left
    (28 x 28 images)."""
    images = X.reshape(-1, 28, 28)
    copies = [images, np.roll(images, 1, axis=2), np.roll(images, 1, axis=1),
              np.roll(images, -1, axis=2)]
    return np.concatenate(copies).reshape(-1, 784)


def large(args):
    X_train, _ = load_mnist(args.mnist_dir, "train")
    AutoencoderTransformer(2, max_epochs=1, structure="umap").fit(X_train[:300])
    table = Table([("rows", 8, "d"), ("graph s", 8, ".1f"), ("layout s", 9, ".1f"),
                   ("epochs", 7, "d"), ("fit s", 7, ".1f"), ("fit epochs", 11, "d"),
                   ("peak RSS GB", 12, ".2f")])
    rows = shifted(X_train)  # built once; each size is its first n rows
    for n in args.sizes:
        X = rows[:n]
        graph_s, (heads, tails, weights) = timed(
            lambda X=X: symmetric_graph(*nearest_neighbours(neighbour_space(X).transform(X))))
        start = torch.rand(n, 2, generator=torch.Generator().manual_seed(0)) * 10
        layout_s = timed(optimize_layout, start, torch.as_tensor(heads), torch.as_tensor(tails),
                         torch.as_tensor(weights), layout_epochs(n))[0]
        model = AutoencoderTransformer(2, structure="umap", transform_neighbors=15,
                                       random_state=0)
        fit_s = timed(model.fit, X)[0]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux
        table.row(n, graph_s, layout_s, layout_epochs(n), fit_s, model.n_iter_, peak)
        del model, X


def main():
    p = parser(__doc__, mnist=True)
    p.add_argument("--sizes", type=int, nargs="+", default=None,
                   help="MNIST training rows (default 20000 60000; --large: 20000 60000 200000)")
    p.add_argument("--inverse-rows", type=int, default=1000)
    p.add_argument("--large", action="store_true")
    p.add_argument("--plot", help="save the 2-d test codes of the last MNIST size here")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    if args.large:
        if not args.mnist_dir:
            p.error("--large needs --mnist-dir")
        args.sizes = args.sizes or [20_000, 60_000, 200_000]
        large(args)
    else:
        args.sizes = args.sizes or [20_000, 60_000]
        compare(args)


if __name__ == "__main__":
    main()
