"""Visualisation codes: PCA, UMAP and skae's autoencoders with structure="umap".

    python benchmarks/bench_structure.py [--mnist-dir DIR] [--mnist-epochs 30]
                                         [--mnist-batch-size 256] [--plot PATH]

2-d codes of held-out rows: 5-NN accuracy (trained on the training rows'
codes), trustworthiness (10 neighbours), wall seconds of ``fit`` and of
``transform`` of the held-out rows. digits: 1,437 training / 360 test rows
(stratified, seed 0); MNIST (when its directory is given): the first 20,000
training and 10,000 test images. UMAP (umap-learn, if installed) runs with
its defaults, its one-time numba compilation (of fit and transform, for
float64 and float32 data) done before timing. The
structure models train at most ``max_epochs`` epochs, early-stopped (100 on
digits, ``--mnist-epochs`` on MNIST, in batches of ``--mnist-batch-size``),
the autoencoder with ``noise=0.1``; the encoder's codes are the "transform" of
their rows, and "+ neighbours" is the row above's model with
``transform_neighbors=15``, placing new rows among the layout as UMAP
places them (its fit s: building the neighbour index alone). ``--plot``
saves the 2-d test codes of UMAP and of the structure autoencoder (with
neighbours, and its encoder alone) side by side.
"""

import importlib.util
import time
import warnings

import numpy as np
from _harness import Table, parser
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer, VAETransformer
from skae.datasets import load_mnist

HAS_UMAP = importlib.util.find_spec("umap") is not None


def datasets(args):
    X, y = load_digits(return_X_y=True)
    yield ("digits", 100, 64, *train_test_split(X / 16, y, test_size=0.2, stratify=y,
                                             random_state=0))
    if args.mnist_dir:
        X_train, y_train = load_mnist(args.mnist_dir, "train")
        X_test, y_test = load_mnist(args.mnist_dir, "test")
        yield ("MNIST 20k/10k", args.mnist_epochs, args.mnist_batch_size, X_train[:20_000],
               X_test[:10_000], y_train[:20_000], y_test[:10_000])


def methods(epochs, batch_size):
    yield "PCA", lambda: PCA(2, random_state=0)
    if HAS_UMAP:
        import umap

        yield "UMAP", lambda: umap.UMAP(random_state=0)
    yield "AutoencoderTransformer", lambda: AutoencoderTransformer(2, random_state=0)
    structure = dict(structure="umap", max_epochs=epochs, batch_size=batch_size,
                     random_state=0)
    yield "AE structure='umap'", lambda: AutoencoderTransformer(2, noise=0.1, **structure)
    yield "  + neighbours", None  # the same model, with transform_neighbors=15
    # The VAE samples its codes: no input noise.
    yield "VAE structure='umap'", lambda: VAETransformer(2, **structure)
    yield "  + neighbours", None


def measure(model, X_train, X_test, y_train, y_test, fit=True):
    start = time.perf_counter()
    if fit:
        model.fit(X_train)
    else:  # the fitted model gains transform_neighbors: only the index is built
        model.set_params(transform_neighbors=15)._set_neighbours(X_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    codes = model.transform(X_test)
    transform_s = time.perf_counter() - start
    knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(codes, y_test)
    return knn, trustworthiness(X_test, codes, n_neighbors=10), fit_s, transform_s, codes


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


def main():
    p = parser(__doc__, mnist=True)
    p.add_argument("--mnist-epochs", type=int, default=30)
    p.add_argument("--mnist-batch-size", type=int, default=256)
    p.add_argument("--plot", help="save the 2-d test codes of the last dataset here")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    if HAS_UMAP:  # numba compiles UMAP's fit and transform once per dtype: not timed
        import umap

        for dtype in (np.float64, np.float32):
            data = np.random.default_rng(0).random((300, 10)).astype(dtype)
            umap.UMAP(random_state=0).fit(data[:200]).transform(data[200:])
    table = Table([("data", 15, ""), ("method", 24, ""), ("kNN5 acc", 9, ".3f"),
                   ("trust", 7, ".3f"), ("fit s", 8, ".1f"), ("transform s", 12, ".4f")])
    for name, epochs, batch_size, X_train, X_test, y_train, y_test in datasets(args):
        shown, model, last = {}, None, None
        for method, make in methods(epochs, batch_size):
            model = model if make is None else make()
            knn, trust, fit_s, transform_s, codes = measure(model, X_train, X_test, y_train,
                                                            y_test, fit=make is not None)
            table.row(name, method, knn, trust, fit_s, transform_s)
            if method == "UMAP":
                shown["UMAP"] = codes
            elif method == "AE structure='umap'":
                shown["skae AE, structure='umap': encoder"] = codes
            elif make is None and last == "AE structure='umap'":
                shown["skae AE, structure='umap', transform_neighbors=15"] = codes
            last = method if make is not None else last
        if args.plot:
            plot(args.plot, shown, y_test)


if __name__ == "__main__":
    main()
