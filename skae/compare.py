"""Compare PCA, KernelPCA, AutoencoderTransformer and VAETransformer on a dataset.

The project's main job. It fits every method at every latent size on the
training rows and measures on held-out rows: reconstruction error, 5-NN and
logistic-regression accuracy of the codes, trustworthiness, fit time and
transform throughput (and the VAE's ELBO). It writes a report folder with
``report.md``, ``results.csv`` and PNG figures.

    python -m skae.compare                       # digits, latent sizes 2 10 30
    python -m skae.compare --dataset mnist --mnist-dir DIR
    python -m skae.compare --dataset data.csv --label-column label

Datasets: ``digits`` (scikit-learn's, bundled; also ``breast_cancer``, ``wine``
and ``iris``, standardized), ``mnist`` (the original IDX
``.gz`` files from ``--mnist-dir`` or ``$SKAE_MNIST_DIR``), ``openml:NAME``
(``fetch_openml``, needs the network), a ``.npy`` matrix, a ``.npz`` with
``X`` (and optionally ``y``), or a ``.csv`` matrix (``--label-column``).
"""

import argparse
import importlib
import json
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA, KernelPCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._autoencoder import AutoencoderTransformer
from ._vae import VAETransformer
from .datasets import MNIST_ENV, load_mnist

__all__ = ["Dataset", "compare", "load_dataset", "main"]

METHODS = ("PCA", "KernelPCA", "AutoencoderTransformer", "VAETransformer")
_TRUST_ROWS = 1000  # trustworthiness costs the square of the rows
#: Every file a report writes: removed before a new report goes into a folder.
_REPORT_FILES = ("report.md", "results.csv", "reconstruction_error.png", "codes_2d.png",
                 "reconstructions.png", "vae_samples.png", "loss_curves.png")
_BUNDLED = ("breast_cancer", "wine", "iris")  # scikit-learn's tabular datasets


@dataclass
class Dataset:
    """A train/test split ready for comparison."""

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray = None
    y_test: np.ndarray = None
    image_shape: tuple = None
    notes: list = field(default_factory=list)


# ---------------------------------------------------------------- datasets
def _split(X, y, test_size=0.2):
    stratify = None
    if y is not None:
        _, counts = np.unique(y, return_counts=True)
        stratify = y if counts.min() >= 2 else None
    if y is None:
        X_train, X_test = train_test_split(X, test_size=test_size, random_state=0)
        return X_train, X_test, None, None
    return train_test_split(X, y, test_size=test_size, stratify=stratify, random_state=0)


def _read_matrix(path, label_column):
    """(X, y) from a .npy, .npz or .csv file, with clear errors."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"Dataset {str(path)!r} not found: expected 'digits', 'mnist', 'openml:NAME', "
            "or the path of a .npy, .npz or .csv file."
        )
    y = None
    if path.suffix == ".csv":
        X, y = _read_csv(path, label_column)
    elif path.suffix in (".npy", ".npz"):
        try:
            loaded = np.load(path, allow_pickle=False)
        except (OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path} could not be read as {path.suffix}: {exc}") from exc
        if path.suffix == ".npy":
            X = loaded
        else:
            with loaded:
                if "X" not in loaded:
                    raise ValueError(f"{path} has no array named 'X' (found {loaded.files}).")
                X, y = loaded["X"], loaded["y"] if "y" in loaded else None
    else:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .npy, .npz "
                         "or .csv.")
    if X.ndim != 2 or X.shape[0] < 10 or X.shape[1] < 2:
        raise ValueError(f"{path}: expected a 2-D matrix with at least 10 rows and 2 columns, "
                         f"got shape {X.shape}.")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{path}: expected numbers, got dtype {X.dtype}.")
    return X.astype(np.float64), y


def _read_csv(path, label_column):
    with open(path, newline="") as f:
        first = f.readline().strip().split(",")
    try:
        [float(v) for v in first]
        header = None
    except ValueError:
        header = [name.strip() for name in first]
    try:
        data = np.loadtxt(path, delimiter=",", skiprows=int(header is not None), dtype=str,
                          ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: not a rectangular CSV matrix: {exc}") from exc
    y = None
    if label_column is not None:
        if header is not None and label_column in header:
            index = header.index(label_column)
        elif label_column.lstrip("-").isdigit():
            index = int(label_column)
        else:
            raise ValueError(f"{path}: no label column {label_column!r} "
                             f"(columns: {header or 'unnamed'}).")
        y = data[:, index]
        data = np.delete(data, index, axis=1)
    try:
        X = data.astype(np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: non-numeric values in the feature columns ({exc}); name "
                         "the label column with --label-column.") from exc
    return X, y


def _scale(X_train, X_test, scale):
    """Scale both parts with statistics of the training part."""
    if scale == "auto":
        if X_train.min() >= 0 and X_train.max() <= 1:
            scale = "none"
        elif X_train.min() >= 0 and np.all(X_train == np.round(X_train)):
            scale = "max"  # non-negative integers: counts or pixel intensities
        else:
            scale = "standard"
    if scale == "standard":
        scaler = StandardScaler().fit(X_train)
        return scaler.transform(X_train), scaler.transform(X_test), scale
    if scale == "max":
        top = X_train.max() or 1.0
        return X_train / top, X_test / top, scale
    return X_train, X_test, scale


def load_dataset(spec="digits", *, mnist_dir=None, label_column=None, scale="auto",
                 max_train=None, max_test=None, image_shape=None):
    """Load ``spec`` as a scaled train/test :class:`Dataset`.

    Parameters
    ----------
    spec : str, default="digits"
        ``"digits"``, ``"breast_cancer"``, ``"wine"``, ``"iris"``, ``"mnist"``,
        ``"openml:NAME"`` or a ``.npy``/``.npz``/``.csv`` path.
    mnist_dir : str, default=None
        Directory of the MNIST IDX files (default: ``$SKAE_MNIST_DIR``).
    label_column : str, default=None
        Name or index of a CSV file's label column.
    scale : {"auto", "standard", "max", "none"}, default="auto"
        ``"auto"`` keeps data in [0, 1], divides non-negative integers by
        their maximum, and standardizes anything else.
    max_train, max_test : int, default=None
        Keep at most this many (randomly chosen) training / test rows.
    image_shape : tuple of int, default=None
        Shape of one sample as an image, for the reconstruction figure.

    Returns
    -------
    dataset : Dataset
    """
    notes = []
    if spec == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = _split(X / 16.0, y)
        image_shape = image_shape or (8, 8)
        notes.append("scikit-learn's digits, X / 16, stratified 80/20 split (random_state=0)")
        scale = "none" if scale == "auto" else scale
    elif spec in _BUNDLED:
        X, y = getattr(__import__("sklearn.datasets", fromlist=["_"]), f"load_{spec}")(
            return_X_y=True)
        X_train, X_test, y_train, y_test = _split(X, y)
        notes.append(f"scikit-learn's {spec}, stratified 80/20 split (random_state=0)")
    elif spec == "mnist":
        mnist_dir = mnist_dir or os.environ.get(MNIST_ENV)
        X_train, y_train = load_mnist(mnist_dir, "train")
        X_test, y_test = load_mnist(mnist_dir, "test")
        image_shape = image_shape or (28, 28)
        notes.append("MNIST, pixels / 255, the official 60,000 / 10,000 split")
        scale = "none" if scale == "auto" else scale
    elif spec.startswith("openml:"):
        from sklearn.datasets import fetch_openml

        name = spec.split(":", 1)[1]
        try:
            bunch = fetch_openml(name, as_frame=False, parser="auto")
        except Exception as exc:  # offline: URLError, OSError, ...
            raise ValueError(f"fetch_openml({name!r}) failed ({exc}); it needs the network "
                             "and an OpenML dataset name.") from exc
        X, y = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target)
        X_train, X_test, y_train, y_test = _split(X, y)
        notes.append(f"OpenML {name!r}, stratified 80/20 split (random_state=0)")
    else:
        X, y = _read_matrix(spec, label_column)
        X_train, X_test, y_train, y_test = _split(X, y)
        notes.append(f"{spec}, 80/20 split (random_state=0)")
    X_train, X_test, used = _scale(X_train, X_test, scale)
    if used != "none":
        notes.append(f"scaled with '{used}' statistics of the training rows")
    rng = np.random.default_rng(0)
    if max_train and len(X_train) > max_train:
        keep = np.sort(rng.choice(len(X_train), max_train, replace=False))
        X_train, y_train = X_train[keep], None if y_train is None else y_train[keep]
        notes.append(f"{max_train} training rows kept")
    if max_test and len(X_test) > max_test:
        keep = np.sort(rng.choice(len(X_test), max_test, replace=False))
        X_test, y_test = X_test[keep], None if y_test is None else y_test[keep]
        notes.append(f"{max_test} test rows kept")
    if image_shape is not None and math.prod(image_shape) != X_train.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} does not match "
                         f"{X_train.shape[1]} features.")
    name = Path(spec).stem if spec not in ("digits", "mnist") else spec
    return Dataset(name, np.ascontiguousarray(X_train, dtype=np.float32),
                   np.ascontiguousarray(X_test, dtype=np.float32), y_train, y_test,
                   tuple(image_shape) if image_shape else None, notes)


# ----------------------------------------------------------------- metrics
def _make(method, latent_dim, ae_params, vae_params):
    if method == "PCA":
        return PCA(latent_dim, random_state=0)
    if method == "KernelPCA":
        return KernelPCA(latent_dim, kernel="rbf", fit_inverse_transform=True, alpha=5e-3,
                         random_state=0)
    if method == "AutoencoderTransformer":
        return AutoencoderTransformer(latent_dim, **{"random_state": 0, **ae_params})
    return VAETransformer(latent_dim, **{"random_state": 0, **vae_params})


def _evaluate(model, method, data, kpca_max, trust_rows):
    X_train = data.X_train
    if method == "KernelPCA" and len(X_train) > kpca_max:
        rows = np.random.default_rng(0).choice(len(X_train), kpca_max, replace=False)
        X_train = X_train[np.sort(rows)]
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    Z_test = model.transform(data.X_test)
    rows_per_s = len(data.X_test) / max(time.perf_counter() - start, 1e-9)
    recon = model.inverse_transform(Z_test)
    squared = (recon - data.X_test) ** 2
    result = {
        "sse": float(squared.sum(axis=1).mean()),
        "mse": float(squared.mean()),
        "fit_s": fit_s,
        "rows_per_s": rows_per_s,
        "knn": np.nan,
        "logreg": np.nan,
        "elbo": float(model.score(data.X_test)) if method == "VAETransformer" else np.nan,
    }
    n = min(trust_rows, len(data.X_test))
    k = min(5, max(1, n // 2 - 1))
    result["trust"] = float(trustworthiness(data.X_test[:n], Z_test[:n], n_neighbors=k))
    if data.y_train is not None:
        Z_train = model.transform(data.X_train)
        knn = KNeighborsClassifier(5).fit(Z_train, data.y_train)
        result["knn"] = float(knn.score(Z_test, data.y_test))
        logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        result["logreg"] = float(logreg.fit(Z_train, data.y_train).score(Z_test, data.y_test))
    return result, Z_test, recon


def compare(data, latent_dims=(2, 10, 30), *, methods=METHODS, ae_params=None,
            vae_params=None, kpca_max=2000, trust_rows=None, progress=True):
    """Fit and measure every method at every latent size.

    Returns
    -------
    results : list of dict
        One row per method and latent size.
    artefacts : dict
        Fitted models, test codes and reconstructions keyed by (method, dim).
    """
    from tqdm.auto import tqdm

    ae_params, vae_params = dict(ae_params or {}), dict(vae_params or {})
    trust_rows = _TRUST_ROWS if trust_rows is None else trust_rows
    if len(data.X_train) > 2 * kpca_max and "KernelPCA" in methods:
        data.notes.append(f"KernelPCA fitted on {kpca_max} random training rows (its kernel "
                          "matrix grows with the square of the rows)")
    tasks = [(m, d) for d in latent_dims for m in methods if d <= data.X_train.shape[1]]
    results, artefacts = [], {}
    bar = tqdm(tasks, disable=not progress, desc="comparing", unit="fit", file=sys.stderr)
    for method, dim in bar:
        bar.set_postfix_str(f"{method}({dim})")
        model = _make(method, dim, ae_params, vae_params)
        result, Z_test, recon = _evaluate(model, method, data, kpca_max, trust_rows)
        results.append({"method": method, "latent_dim": dim, **result})
        artefacts[method, dim] = {"model": model, "codes": Z_test, "recon": recon}
    return results, artefacts


# ----------------------------------------------------------------- figures
def _figures(data, results, artefacts, latent_dims, out):
    # The Figure API draws without pyplot's global backend or figure registry.
    from matplotlib.figure import Figure

    figures = {}
    methods = list(dict.fromkeys(r["method"] for r in results))

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for method in methods:
        rows = [r for r in results if r["method"] == method]
        ax.plot([r["latent_dim"] for r in rows], [r["sse"] for r in rows], "o-", label=method)
    ax.set(xlabel="latent size", ylabel="test SSE per sample", yscale="log",
           title=f"{data.name}: reconstruction error")
    ax.set_xticks(sorted({r["latent_dim"] for r in results}))
    ax.legend()
    figures["reconstruction_error.png"] = "Reconstruction error against latent size"
    fig.savefig(out / "reconstruction_error.png", dpi=100, bbox_inches="tight")

    if 2 in latent_dims and data.y_test is not None:
        shown = [m for m in methods if (m, 2) in artefacts]
        fig = Figure(figsize=(4 * len(shown) + 1, 4))
        axes = fig.subplots(1, len(shown), squeeze=False)
        classes, labels = np.unique(data.y_test, return_inverse=True)
        for ax, method in zip(axes[0], shown, strict=True):
            Z = artefacts[method, 2]["codes"]
            points = ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=4,
                                vmin=0, vmax=max(len(classes) - 1, 1))
            ax.set(title=method, xticks=[], yticks=[])
        if len(classes) <= 20:
            handles = points.legend_elements(num=list(range(len(classes))))[0]
            fig.legend(handles, [str(c) for c in classes], title="label", loc="center right",
                       fontsize=8)
            fig.subplots_adjust(right=1 - 0.9 / fig.get_figwidth())
        else:
            fig.colorbar(points, ax=axes[0].tolist(), label="label (index)")
        fig.suptitle(f"{data.name}: 2-d test codes, coloured by label")
        figures["codes_2d.png"] = "2-d codes of the test rows"
        fig.savefig(out / "codes_2d.png", dpi=100, bbox_inches="tight")

    if data.image_shape is not None:
        dim = max(latent_dims)
        rows = [("original", data.X_test)] + [
            (f"{m} ({dim})", artefacts[m, dim]["recon"]) for m in methods if (m, dim) in artefacts]
        fig = Figure(figsize=(10, 1.1 * len(rows)))
        axes = fig.subplots(len(rows), 10, squeeze=False)
        for r, (name, images) in enumerate(rows):
            for c in range(10):
                axes[r, c].imshow(images[c].reshape(data.image_shape), cmap="gray_r",
                                  vmin=0, vmax=1)
                axes[r, c].axis("off")
            axes[r, 0].set_title(name, fontsize=8, loc="left")
        figures["reconstructions.png"] = f"Test images and their reconstructions at {dim}-d"
        fig.savefig(out / "reconstructions.png", dpi=100, bbox_inches="tight")

        vaes = [d for d in latent_dims if ("VAETransformer", d) in artefacts]
        if vaes:
            dim = min(vaes)
            samples = artefacts["VAETransformer", dim]["model"].sample(64, random_state=0)
            fig = Figure(figsize=(6, 6))
            axes = fig.subplots(8, 8)
            for ax, image in zip(axes.flat, samples, strict=True):
                ax.imshow(np.clip(image, 0, 1).reshape(data.image_shape), cmap="gray_r",
                          vmin=0, vmax=1)
                ax.axis("off")
            fig.suptitle(f"VAETransformer({dim}): decoded draws from the prior")
            figures["vae_samples.png"] = f"64 samples of the {dim}-d VAE"
            fig.savefig(out / "vae_samples.png", dpi=100, bbox_inches="tight")

    nets = [m for m in ("AutoencoderTransformer", "VAETransformer") if m in methods]
    if nets:
        fig = Figure(figsize=(6 * len(nets), 4))
        axes = fig.subplots(1, len(nets), squeeze=False)
        for ax, method in zip(axes[0], nets, strict=True):
            for dim in latent_dims:
                if (method, dim) not in artefacts:
                    continue
                model = artefacts[method, dim]["model"]
                line, = ax.plot(np.arange(1, model.n_iter_ + 1), model.loss_curve_,
                                label=f"{dim}-d train")
                if model.validation_loss_curve_ is not None:
                    ax.plot(np.arange(1, model.n_iter_ + 1), model.validation_loss_curve_,
                            "--", color=line.get_color(), label=f"{dim}-d validation")
            ylabel = ("reconstruction loss (scaled units)" if method == "AutoencoderTransformer"
                      else "negative ELBO per row (nats, scaled units)")
            ax.set(title=method, xlabel="epoch", ylabel=ylabel)
            ax.legend(fontsize=8)
        figures["loss_curves.png"] = "Training and validation loss curves"
        fig.savefig(out / "loss_curves.png", dpi=100, bbox_inches="tight")
    return figures


# ------------------------------------------------------------------ report
def _table(results):
    head = ("| method | latent | test SSE/sample | test MSE | 5-NN acc | LogReg acc | "
            "trustworthiness | fit s | transform rows/s | test ELBO |")
    lines = [head, "|" + "---|" * 10]

    def fmt(value, spec):
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) \
            else format(value, spec)

    for r in results:
        lines.append(
            f"| {r['method']} | {r['latent_dim']} | {fmt(r['sse'], '.3f')} | "
            f"{fmt(r['mse'], '.5f')} | {fmt(r['knn'], '.3f')} | {fmt(r['logreg'], '.3f')} | "
            f"{fmt(r['trust'], '.3f')} | {fmt(r['fit_s'], '.2f')} | "
            f"{fmt(r['rows_per_s'], ',.0f')} | {fmt(r['elbo'], '.1f')} |")
    return "\n".join(lines)


def _summary(results):
    lines = []
    for dim in sorted({r["latent_dim"] for r in results}):
        rows = [r for r in results if r["latent_dim"] == dim]
        best = min(rows, key=lambda r: r["sse"])
        pca = next((r for r in rows if r["method"] == "PCA"), None)
        text = f"- **{dim}-d**: lowest reconstruction error: {best['method']} ({best['sse']:.3f}"
        text += f", PCA {pca['sse']:.3f})" if pca and best is not pca else ")"
        if not math.isnan(rows[0]["knn"]):
            top = max(rows, key=lambda r: r["knn"])
            text += f"; best 5-NN accuracy: {top['method']} ({top['knn']:.3f}"
            text += f", PCA {pca['knn']:.3f})" if pca and top is not pca else ")"
        lines.append(text + ".")
    return "\n".join(lines)


def write_report(data, results, artefacts, latent_dims, out, seconds, command):
    """Write ``report.md``, ``results.csv`` and the figures into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name in _REPORT_FILES:  # a new report replaces the whole previous one
        (out / name).unlink(missing_ok=True)
    figures = _figures(data, results, artefacts, latent_dims, out)
    keys = list(results[0])
    with open(out / "results.csv", "w") as f:
        f.write(",".join(keys) + "\n")
        for r in results:
            f.write(",".join(str(r[k]) for k in keys) + "\n")
    n_train, n_features = data.X_train.shape
    text = [
        f"# PCA vs autoencoders on {data.name}",
        "",
        f"`{command}` ({seconds:.0f} s in all).",
        "",
        f"Data: {n_train} training and {len(data.X_test)} test rows, {n_features} features; "
        + "; ".join(data.notes) + ".",
        "All metrics on the test rows: SSE is the squared error summed over features, "
        "averaged over rows; MSE is its mean per feature. The 5-NN and logistic-regression "
        "classifiers are trained on the training rows' codes. Trustworthiness (5 neighbours) "
        + (f"is on all {len(data.X_test)} test rows" if len(data.X_test) <= _TRUST_ROWS
           else f"is on the first {_TRUST_ROWS} test rows")
        + ". The ELBO is the VAE's, in nats per row.",
        "",
        _table(results),
        "",
        _summary(results),
        "",
    ]
    for name, caption in figures.items():
        text += [f"![{caption}]({name})", ""]
    (out / "report.md").write_text("\n".join(text))
    return out / "report.md"


def _parser():
    """The command line's argument parser."""
    parser = argparse.ArgumentParser(
        prog="skae-compare" if Path(sys.argv[0]).name == "skae-compare"
        else "python -m skae.compare", description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", default="digits",
                        help="digits, breast_cancer, wine, iris, mnist, openml:NAME, or a "
                        ".npy/.npz/.csv path")
    parser.add_argument("--mnist-dir", default=os.environ.get(MNIST_ENV),
                        help=f"directory of the MNIST IDX .gz files (or ${MNIST_ENV})")
    parser.add_argument("--label-column", help="label column of a .csv dataset")
    parser.add_argument("--scale", default="auto", choices=["auto", "standard", "max", "none"])
    parser.add_argument("--image-shape", type=int, nargs=2, help="shape of one row as an image")
    parser.add_argument("--latent-dims", type=int, nargs="+", default=[2, 10, 30])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--ae-params", type=_json_object, default={},
                        help="JSON parameters of AutoencoderTransformer")
    parser.add_argument("--vae-params", type=_json_object, default={},
                        help="JSON parameters of VAETransformer")
    parser.add_argument("--kpca-max", type=int, default=2000,
                        help="KernelPCA fits on at most this many training rows")
    parser.add_argument("--max-train", type=int, help="keep at most this many training rows")
    parser.add_argument("--max-test", type=int, help="keep at most this many test rows")
    parser.add_argument("--out", default=None, help="report folder (default reports/DATASET)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    return parser


def main(argv=None):
    """Command-line entry point (``python -m skae.compare``, ``skae-compare``)."""
    parser = _parser()
    args = parser.parse_args(argv)
    missing = []
    for name in ("matplotlib", "tqdm"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        parser.exit(2, f"error: the report needs {' and '.join(missing)}: "
                       "pip install 'skae[report]'\n")
    for option, Est in (("--ae-params", AutoencoderTransformer),
                        ("--vae-params", VAETransformer)):
        problem = _check_params(Est, getattr(args, option[2:].replace("-", "_")))
        if problem:
            parser.error(f"{option}: {problem}")
    if min(args.latent_dims) < 1:
        parser.error("--latent-dims must be positive integers")

    start = time.perf_counter()
    try:
        data = load_dataset(args.dataset, mnist_dir=args.mnist_dir,
                            label_column=args.label_column, scale=args.scale,
                            max_train=args.max_train, max_test=args.max_test,
                            image_shape=args.image_shape)
    except ValueError as exc:
        parser.exit(2, f"error: {exc}\n")
    too_wide = [d for d in args.latent_dims if d > data.X_train.shape[1]]
    if too_wide:
        note = (f"latent sizes {too_wide} skipped: larger than the data's "
                f"{data.X_train.shape[1]} features")
        data.notes.append(note)
        print(f"note: {note}", file=sys.stderr)
    results, artefacts = compare(data, args.latent_dims, methods=args.methods,
                                 ae_params=args.ae_params, vae_params=args.vae_params,
                                 kpca_max=args.kpca_max, progress=not args.quiet)
    out = Path(args.out or Path("reports") / data.name)
    command = shlex.join(["python", "-m", "skae.compare",
                          *(argv if argv is not None else sys.argv[1:])])
    report = write_report(data, results, artefacts, args.latent_dims, out,
                          time.perf_counter() - start, command)
    if not args.quiet:
        print(_table(results))
        print(f"\nreport: {report} ({time.perf_counter() - start:.0f} s)")
    return 0


def _json_object(text):
    """argparse type: a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"lr\": 0.01}}'; "
                                         f"got {text!r}")
    return value


def _check_params(Est, params):
    """None if ``params`` are valid keyword parameters of ``Est``, else why not."""
    valid = set(Est().get_params())
    unknown = sorted(set(params) - valid)
    if unknown:
        return (f"unknown parameter(s) {', '.join(unknown)} of {Est.__name__}; valid: "
                f"{', '.join(sorted(valid - {'latent_dim'}))}")
    if "latent_dim" in params:
        return "latent_dim is set by --latent-dims"
    try:
        Est(**params)._validate_params()
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


if __name__ == "__main__":
    sys.exit(main())
