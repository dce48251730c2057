"""Fit time: skae's step against hand-written loops, and default fits against UMAP's.

    python benchmarks/bench_speed.py [--mnist-dir DIR] [--pairs 5] [--skip-steps]
                                     [--skip-precision] [--skip-quality]
                                     [--mnist-structure-rows 20000] [--digits-seeds 3]
                                     [--networks 128,64 128]

**Per step.** ``AutoencoderTransformer.fit`` (early stopping off, a fixed
number of epochs) against two plain PyTorch loops over the same network
(skae's module at its PCA start, computed in every run), batches, epochs and
CPU threads: a naive loop with torch's default ``Adam`` and a loop with
``AdamW(fused=True)``. The three run in turn, ``--pairs`` times, in one
process after a warm-up; the table gives the median seconds and the median of
the per-round ratios. Configurations: digits x 5 (8,985 rows) through
64-32-2 in batches of 64, 20 epochs; random 20,000 x 784 through
784-512-256-30 in batches of 256, 2 epochs.

**Precision.** The same skae fits with ``precision="bf16"`` (bfloat16
autocast) against ``"32"``: median seconds and ratio over ``--pairs``
alternating pairs, and the last training loss of each.

**Time to quality.** Default parameters apart from ``latent_dim`` and
``random_state`` (seeds 0 to ``--digits-seeds`` - 1 on digits, their means
shown; seed 0 on MNIST), on held-out rows: digits (X/16, 1,437 training /
360 test rows, stratified split with seed 0) and, with ``--mnist-dir``,
MNIST (X/255, the 60,000 / 10,000 split; the structure model and UMAP beside
it also on the first ``--mnist-structure-rows`` training rows). Columns: fit
wall seconds, test reconstruction MSE (mean over features), and for 2-d
codes the 5-NN accuracy (trained on the training rows' codes) and
trustworthiness (10 neighbours) of the test codes. ``--networks`` adds
k=2 autoencoders with other hidden layers (smaller networks: faster epochs,
and whether they keep the quality). UMAP (umap-learn, when
installed) runs with its defaults (no ``random_state``: on all cores); its
numba compilation, and skae's first-fit start-up, happen before timing.
"""

import importlib.util
import statistics
import warnings

import numpy as np
import torch
from _harness import Table, parser, timed
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skae import AutoencoderTransformer
from skae._linear_start import linear_start
from skae._modules import AutoencoderModule
from skae._runtime import torch_threads, training_threads
from skae.datasets import load_mnist

HAS_UMAP = importlib.util.find_spec("umap") is not None


# ------------------------------------------------------------------ per step
def plain_loop(X, hidden, latent_dim, epochs, batch_size, optimizer="adam"):
    """A hand-written loop over skae's network at its PCA start: torch's
    default ``Adam`` ("adam") or ``AdamW(fused=True)`` ("fused")."""
    start = linear_start(X, latent_dim, linear=True, seed=0)
    module = AutoencoderModule(X.shape[1], latent_dim, hidden, linear_path=True, seed=0)
    module.set_linear_start(**start.pca_maps(latent_dim))
    if optimizer == "adam":
        opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    else:
        opt = torch.optim.AdamW(module.parameters(), lr=1e-3, weight_decay=1e-4, fused=True)
    data = torch.from_numpy(X)
    generator = torch.Generator().manual_seed(0)
    with torch_threads(training_threads(module, batch_size, "cpu")):
        module.train()
        for _ in range(epochs):
            total = 0.0
            for index in torch.randperm(len(data), generator=generator).split(batch_size):
                batch = data[index]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(module(batch)[0], module.normalize(batch))
                loss.backward()
                opt.step()
                total += loss.item() * len(batch)
    return module


def skae_fit(X, hidden, latent_dim, epochs, batch_size, precision="32"):
    return AutoencoderTransformer(latent_dim, hidden_layer_sizes=hidden, max_epochs=epochs,
                                  batch_size=batch_size, early_stopping=False,
                                  lr_schedule="constant", precision=precision,
                                  random_state=0).fit(X)


def step_configs():
    """``(name, X, hidden, latent_dim, epochs, batch_size)`` of the per-step
    comparisons."""
    digits = (load_digits().data / 16).astype(np.float32)
    return [("digits x 5", np.tile(digits, (5, 1)), (32,), 2, 20, 64),
            ("random", np.random.default_rng(0).random((20_000, 784), dtype=np.float32),
             (512, 256), 30, 2, 256)]


def steps(pairs):
    configs = step_configs()
    print(f"Per step: torch {torch.__version__}, median of {pairs} rounds "
          "(skae, naive Adam loop, fused AdamW loop)")
    table = Table([("data", 12, ""), ("network", 18, ""), ("batch", 6, "d"), ("steps", 6, "d"),
                   ("skae s", 8, ".3f"), ("naive s", 8, ".3f"), ("fused s", 8, ".3f"),
                   ("skae/naive", 11, ".3f"), ("skae/fused", 11, ".3f")])
    for name, X, hidden, latent_dim, epochs, batch_size in configs:
        cfg = (hidden, latent_dim, epochs, batch_size)
        small = (hidden, latent_dim, 1, batch_size)
        skae_fit(X[:512], *small)  # warm-up: allocator, kernels, thread pools
        plain_loop(X[:512], *small)
        plain_loop(X[:512], *small, optimizer="fused")
        times = {"skae": [], "naive": [], "fused": []}
        for _ in range(pairs):
            times["skae"].append(timed(skae_fit, X, *cfg)[0])
            times["naive"].append(timed(plain_loop, X, *cfg)[0])
            times["fused"].append(timed(plain_loop, X, *cfg, optimizer="fused")[0])
        ratios = [statistics.median(a / b for a, b in zip(times["skae"], times[other],
                                                          strict=True))
                  for other in ("naive", "fused")]
        network = "-".join(map(str, (X.shape[1], *hidden, latent_dim)))
        n_steps = epochs * -(-len(X) // batch_size)
        table.row(name, network, batch_size, n_steps,
                  *(statistics.median(times[k]) for k in ("skae", "naive", "fused")), *ratios)


def precision(pairs):
    print(f"\nPrecision: skae fit seconds, median of {pairs} alternating pairs")
    table = Table([("data", 12, ""), ("network", 18, ""), ("32 s", 8, ".3f"),
                   ("bf16 s", 8, ".3f"), ("bf16/32", 8, ".3f"), ("loss 32", 9, ".4f"),
                   ("loss bf16", 10, ".4f")])
    for name, X, hidden, latent_dim, epochs, batch_size in step_configs():
        cfg = (hidden, latent_dim, epochs, batch_size)
        skae_fit(X[:512], hidden, latent_dim, 1, batch_size, "bf16")  # warm-up
        runs = {"32": [], "bf16": []}
        for _ in range(pairs):
            for kind in runs:
                seconds, model = timed(skae_fit, X, *cfg, kind)
                runs[kind].append((seconds, model.loss_curve_[-1]))
        ratio = statistics.median(b[0] / a[0] for a, b in zip(*runs.values(), strict=True))
        network = "-".join(map(str, (X.shape[1], *hidden, latent_dim)))
        table.row(name, network, statistics.median(t for t, _ in runs["32"]),
                  statistics.median(t for t, _ in runs["bf16"]), ratio, runs["32"][-1][1],
                  runs["bf16"][-1][1])


# ------------------------------------------------------------ time to quality
def datasets(args):
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X / 16, y, test_size=0.2, stratify=y, random_state=0)
    yield "digits", split, None, range(args.digits_seeds)
    if args.mnist_dir:
        X_train, y_train = load_mnist(args.mnist_dir, "train")
        X_test, y_test = load_mnist(args.mnist_dir, "test")
        yield ("MNIST 60k/10k", (X_train, X_test, y_train, y_test),
               args.mnist_structure_rows, [0])


def methods(structure_rows, networks=()):
    """``(name, make(seed), training rows or None for all)``; ``networks``:
    hidden layer sizes of further k=2 autoencoders."""
    yield "PCA k=2", lambda seed: PCA(2, random_state=seed), None
    yield "PCA k=10", lambda seed: PCA(10, random_state=seed), None
    if HAS_UMAP:
        import umap

        yield "UMAP", lambda seed: umap.UMAP(), None
    yield "AE k=2", lambda seed: AutoencoderTransformer(2, random_state=seed), None
    yield "AE k=10", lambda seed: AutoencoderTransformer(10, random_state=seed), None
    for hidden in networks:
        yield (f"AE k=2 hidden {hidden}", lambda seed, hidden=hidden: AutoencoderTransformer(
            2, hidden_layer_sizes=hidden, random_state=seed), None)
    if HAS_UMAP and structure_rows:
        yield "UMAP", lambda seed: umap.UMAP(), structure_rows
    yield "AE structure, neighbours 15", lambda seed: AutoencoderTransformer(
        2, structure="umap", transform_neighbors=15, random_state=seed), structure_rows


def measure(model, X_train, X_test, y_train, y_test):
    fit_s = timed(model.fit, X_train)[0]
    codes = model.transform(X_test)
    mse = None
    if hasattr(model, "inverse_transform") and not type(model).__name__ == "UMAP":
        mse = float(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))
    knn = trust = None
    if codes.shape[1] == 2:
        knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train).score(codes, y_test)
        trust = trustworthiness(X_test, codes, n_neighbors=10)
    return fit_s, mse, knn, trust


def warm_up(args):
    """One-time start-up, not timed: numba's compilation of UMAP's fit and
    transform (per dtype and width of the data), torch's thread pools."""
    if HAS_UMAP:
        import umap

        shapes = [(300, 10), (3000, 64)] + ([(3000, 784)] if args.mnist_dir else [])
        for n, width in shapes:
            for dtype in (np.float64, np.float32):
                data = np.random.default_rng(0).random((n, width)).astype(dtype)
                umap.UMAP().fit(data[:-100]).transform(data[-100:])
    AutoencoderTransformer(2, max_epochs=2, random_state=0).fit(load_digits().data[:200])


def quality(args):
    warm_up(args)
    print("\nTime to quality: default parameters, held-out rows (digits: mean over seeds)")
    table = Table([("data", 15, ""), ("method", 29, ""), ("train rows", 11, ",d"),
                   ("fit s", 8, ".2f"), ("test MSE", 10, ".5f"), ("kNN5", 7, ".3f"),
                   ("trust", 7, ".3f")])
    for name, (X_train, X_test, y_train, y_test), structure_rows, seeds in datasets(args):
        for method, make, rows in methods(structure_rows, args.networks):
            rows = rows or len(X_train)
            runs = [measure(make(seed), X_train[:rows], X_test, y_train[:rows], y_test)
                    for seed in seeds]
            table.row(name, method, rows, *(None if values[0] is None else np.mean(values)
                                            for values in zip(*runs, strict=True)))


def main():
    p = parser(__doc__, mnist=True)
    p.add_argument("--pairs", type=int, default=5, help="rounds of the per-step timing")
    p.add_argument("--mnist-structure-rows", type=int, default=20_000,
                   help="MNIST training rows of the structure model")
    p.add_argument("--digits-seeds", type=int, default=3,
                   help="seeds of the models fitted on digits, whose means are shown")
    p.add_argument("--skip-steps", action="store_true", help="no per-step table")
    p.add_argument("--skip-precision", action="store_true", help="no precision table")
    p.add_argument("--skip-quality", action="store_true", help="no time-to-quality table")
    p.add_argument("--networks", nargs="*", default=[],
                   type=lambda text: tuple(int(v) for v in text.split(",")),
                   help="hidden layer sizes (e.g. 128,64) of further k=2 autoencoders in the "
                        "time-to-quality table")
    args = p.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # UMAP's
    if not args.skip_steps:
        steps(args.pairs)
    if not args.skip_precision:
        precision(args.pairs)
    if not args.skip_quality:
        quality(args)


if __name__ == "__main__":
    main()
