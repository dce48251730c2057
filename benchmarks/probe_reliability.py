"""Adversarial probe: every estimator × method × odd input, and how each behaves.

A case behaves well when the call either returns a finite result of the
right shape, or raises a clear ``ValueError``/``TypeError`` (the kind
scikit-learn raises for bad input). Anything else (``AttributeError``, a raw
torch ``RuntimeError``, NaN output, a crash) is a failure and is listed.

    python benchmarks/probe_reliability.py
"""

import tempfile
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from _harness import parser
from sklearn.datasets import load_digits

import skae
from skae import AutoencoderOutlierDetector, AutoencoderTransformer, VAETransformer

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
ESTIMATORS = {
    "AE": lambda **kw: AutoencoderTransformer(2, **FAST, **kw),
    "VAE": lambda **kw: VAETransformer(2, **FAST, **kw),
    "detector": lambda **kw: AutoencoderOutlierDetector(
        AutoencoderTransformer(8, **FAST, **kw)),
    "AE-bce": lambda **kw: AutoencoderTransformer(2, loss="bce", **FAST, **kw),
    "AE-conv": lambda **kw: AutoencoderTransformer(2, architecture="conv", image_shape=(8, 8),
                                                   conv_channels=(4,), max_epochs=2, **kw),
}


def variants(X, tmp):
    """Name -> (input, whether it is valid data)."""
    path = Path(tmp) / "X.npy"
    np.save(path, X)
    polars = None
    try:
        import polars
    except ImportError:
        pass
    out = {
        "float64": (X, True), "float32": (X.astype(np.float32), True),
        "F-order": (np.asfortranarray(X), True), "strided view": (np.c_[X, X][:, ::2], True),
        "read-only": (np.require(X, requirements="C").copy(), True),
        "memmap": (np.load(path, mmap_mode="r"), True),
        "int": (np.round(X * 16).astype(np.int64), None),
        "list": (X.tolist(), True), "pandas": (pd.DataFrame(X), True),
        "torch tensor": (torch.from_numpy(X.copy()), True),
        "tensor.numpy()": (torch.from_numpy(X.copy()).numpy(), True),
        "np.frombuffer": (np.frombuffer(X.tobytes()).reshape(X.shape), True),
        "memoryview": (memoryview(X.copy()), True),
        "x1e4+1e6": (X * 1e4 + 1e6, None), "NaN": (np.where(X == X.max(), np.nan, X), False),
        "inf": (np.where(X == X.max(), np.inf, X), False), "1e39": (X * 1e39, False),
        "strings": (X.astype(str).astype(object) + "x", False),
        "complex": (X + 1j, False), "empty": (X[:0], False), "1-D": (X[0], False),
        "3-D": (X[:, :, None], False), "wrong width": (X[:, :10], False),
        "sparse CSR": (sp.csr_matrix(X), None), "one row": (X[:1], True),
    }
    out["read-only"][0].setflags(write=False)
    if polars is not None:
        out["polars"] = (polars.DataFrame(X), True)
    return out


def run_case(make, method, X, fitted):
    """Call ``method`` on X; return None when it behaves, else a description."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "fit":
                est = make().fit(X)
                result = est.score_samples(X)
            elif method == "inverse_transform":
                result = fitted.inverse_transform(fitted.transform(X))
            else:
                result = getattr(fitted, method)(X)
    except (ValueError, TypeError) as exc:  # clear rejection
        return None if str(exc) else "empty message"
    except Exception as exc:  # noqa: BLE001 - that is what the probe counts
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
    result = np.asarray(result)
    if result.dtype.kind in "fc" and not np.isfinite(result).all():
        return "non-finite output"
    return None


def main(argv=None):
    parser(__doc__).parse_args(argv)
    torch.set_num_threads(1)
    X = np.ascontiguousarray(load_digits().data[:120] / 16)
    counts, failures = Counter(), []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = variants(X, tmp)
        for name, make in ESTIMATORS.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = make().fit(X)
            methods = ["fit", "score_samples"] + (
                ["predict", "decision_function"] if hasattr(fitted, "predict")
                else ["transform", "inverse_transform", "score"])
            for method in methods:
                for variant, (data, _) in inputs.items():
                    problem = run_case(make, method, data, fitted)
                    counts["well-behaved" if problem is None else "failed"] += 1
                    if problem:
                        failures.append(f"{name:9} {method:18} {variant:15} {problem}")
            if not hasattr(skae, "save"):
                continue
            # persistence round trip
            path = Path(tmp) / f"{name}.skae"
            skae.save(fitted, path)
            same = np.array_equal(skae.load(path).score_samples(X), fitted.score_samples(X))
            counts["well-behaved" if same else "failed"] += 1
            if not same:
                failures.append(f"{name:9} save/load round trip differs")
    print(f"{sum(counts.values())} cases: {counts['well-behaved']} well-behaved, "
          f"{counts['failed']} failed")
    for line in failures:
        print("  " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except Exception:
        traceback.print_exc()
        raise SystemExit(2) from None
