"""Compare PCA, KernelPCA, AutoencoderTransformer and VAETransformer on a dataset.

The project's main job. It fits every method at every latent size on the
training rows and measures on held-out rows: reconstruction error, 5-NN and
logistic-regression accuracy of the codes, trustworthiness, fit time and
transform throughput (and the VAE's ELBO); and how much of the held-out
variance each number of dimensions explains, for PCA and an ordered
autoencoder, from one fit each. It writes a report folder with
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
import importlib.util
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA, KernelPCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._autoencoder import AutoencoderTransformer
from ._report import table, write_report
from ._vae import VAETransformer
from .datasets import DATASETS, MNIST_ENV, Dataset, load_dataset

__all__ = ["Dataset", "compare", "explained_variance", "load_dataset", "main"]

METHODS = ("PCA", "KernelPCA", "AutoencoderTransformer", "VAETransformer")
#: Methods that can be asked for with ``--methods``: UMAP needs umap-learn
#: (its codes have no reconstruction here: UMAP's inverse is approximate
#: and slow).
OPTIONAL_METHODS = ("UMAP",)
_TRUST_ROWS = 1000  # trustworthiness costs the square of the rows


# ----------------------------------------------------------------- metrics
def _make(method, latent_dim, ae_params, vae_params):
    if method == "PCA":
        return PCA(latent_dim, random_state=0)
    if method == "KernelPCA":
        return KernelPCA(latent_dim, kernel="rbf", fit_inverse_transform=True, alpha=5e-3,
                         random_state=0)
    if method == "UMAP":
        import umap

        return umap.UMAP(n_components=latent_dim, random_state=0)
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
    recon = None if method == "UMAP" else model.inverse_transform(Z_test)
    squared = np.full(data.X_test.shape, np.nan) if recon is None else (recon - data.X_test) ** 2
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
    """Fit and measure every method at every latent size (``data`` is not
    modified).

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
    tasks = [(m, d) for d in latent_dims for m in methods if d <= data.X_train.shape[1]]
    # torch's one-time start-up (thread pools, kernels) is not part of a fit.
    AutoencoderTransformer(1, hidden_layer_sizes=(4,), max_epochs=1, random_state=0).fit(
        np.asarray(data.X_train[:64], dtype=np.float32))
    results, artefacts = [], {}
    bar = tqdm(tasks, disable=not progress, desc="comparing", unit="fit", file=sys.stderr)
    for method, dim in bar:
        bar.set_postfix_str(f"{method}({dim})")
        model = _make(method, dim, ae_params, vae_params)
        result, Z_test, recon = _evaluate(model, method, data, kpca_max, trust_rows)
        results.append({"method": method, "latent_dim": dim, **result})
        artefacts[method, dim] = {"model": model, "codes": Z_test, "recon": recon}
    return results, artefacts


def explained_variance(data, width, ae_params=None):
    """Held-out R² of every prefix k = 1..``width`` of PCA's code and of an
    ordered :class:`AutoencoderTransformer`'s, one fit each (``R² = 1 -
    |X - X_k|^2 / |X - mean(X)|^2`` on the test rows, ``X_k`` the
    reconstruction from the first k dimensions).

    Returns
    -------
    curves : dict
        ``"k"``, and the R² of each prefix under ``"PCA"`` and
        ``"ordered AutoencoderTransformer"``; ``"fit_s"``, the two fits'
        seconds.
    """
    params = {"random_state": 0, **(ae_params or {}), "ordered": True,
              "structure": None, "transform_neighbors": None}
    X, T = data.X_train, data.X_test
    sst = float(np.sum((T - T.mean(axis=0)) ** 2))
    start = time.perf_counter()
    pca = PCA(width, random_state=0).fit(X)
    pca_s = time.perf_counter() - start
    start = time.perf_counter()
    ae = AutoencoderTransformer(width, **params).fit(X)
    ae_s = time.perf_counter() - start
    Z_pca = pca.transform(T)
    curves = {"k": np.arange(1, width + 1), "PCA": [],
              # each prefix decoded as truncate(k)'s model decodes it
              "ordered AutoencoderTransformer": list(ae._prefix_r2(np.asarray(T, np.float32)))}
    for k in curves["k"]:
        back = Z_pca[:, :k] @ pca.components_[:k] + pca.mean_
        curves["PCA"].append(1 - float(np.sum((back - T) ** 2)) / sst)
    return {**curves, "fit_s": {"PCA": pca_s, "ordered AutoencoderTransformer": ae_s}}


def _parser():
    """The command line's argument parser."""
    parser = argparse.ArgumentParser(
        prog="skae-compare" if Path(sys.argv[0]).name == "skae-compare"
        else "python -m skae.compare", description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", default="digits",
                        help=f"{', '.join(DATASETS)}, openml:NAME, or a .npy/.npz/.csv path")
    parser.add_argument("--mnist-dir", default=os.environ.get(MNIST_ENV),
                        help=f"directory of the MNIST IDX .gz files (or ${MNIST_ENV})")
    parser.add_argument("--label-column", help="label column of a .csv dataset")
    parser.add_argument("--scale", default="auto", choices=["auto", "standard", "max", "none"])
    parser.add_argument("--image-shape", type=int, nargs=2, help="shape of one row as an image")
    parser.add_argument("--latent-dims", type=int, nargs="+", default=[2, 10, 30])
    parser.add_argument("--methods", nargs="+", default=list(METHODS),
                        choices=METHODS + OPTIONAL_METHODS,
                        help="UMAP needs umap-learn (pip install umap-learn)")
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
    if "UMAP" in args.methods and importlib.util.find_spec("umap") is None:
        parser.exit(2, "error: --methods UMAP needs umap-learn: pip install umap-learn\n")
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
        data = data.with_note(note)
        print(f"note: {note}", file=sys.stderr)
    if len(data.X_train) > 2 * args.kpca_max and "KernelPCA" in args.methods:
        data = data.with_note(f"KernelPCA fitted on {args.kpca_max} random training rows (its "
                              "kernel matrix grows with the square of the rows)")
    results, artefacts = compare(data, args.latent_dims, methods=args.methods,
                                 ae_params=args.ae_params, vae_params=args.vae_params,
                                 kpca_max=args.kpca_max, progress=not args.quiet)
    components = None
    if "AutoencoderTransformer" in args.methods:
        width = min(max(args.latent_dims), data.X_train.shape[1])
        components = explained_variance(data, width, args.ae_params)
    out = Path(args.out or Path("reports") / data.name)
    command = shlex.join(["python", "-m", "skae.compare",
                          *(argv if argv is not None else sys.argv[1:])])
    report = write_report(data, results, artefacts, args.latent_dims, out,
                          time.perf_counter() - start, command, _TRUST_ROWS, components)
    if not args.quiet:
        print(table(results))
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
