"""The capability matrix: each shared capability on each of the four
estimators, run by ``test_capabilities.py`` and shown on the user guide's
front page (``python tests/capabilities.py`` prints the table that the page
holds between its ``capabilities`` markers; a test compares them).

A capability is a function ``check(name, data, monkeypatch)`` that runs it
on the estimator ``name`` and asserts what it promises. A cell that cannot
be filled is in :data:`REFUSED`, with the error it raises and why.
"""

import pickle
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from networks import TanhEncoder
from torch import nn

import skae
from skae import (
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    VAETransformer,
)
from skae._net import AutoencoderNet

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)

#: The four estimators, small and quick, with extra parameters ``kw``.
ESTIMATORS = {
    "AutoencoderTransformer": lambda **kw: AutoencoderTransformer(2, **FAST, **kw),
    "VAETransformer": lambda **kw: VAETransformer(2, **FAST, **kw),
    "AutoencoderOutlierDetector": lambda **kw: AutoencoderOutlierDetector(
        AutoencoderTransformer(2, **FAST, **kw)),
    "AutoencoderImputer": lambda **kw: AutoencoderImputer(latent_dim=8, **FAST, **kw),
}


def output(estimator, X):
    """What the estimator computes for X: codes, scores or the filled data."""
    if isinstance(estimator, AutoencoderOutlierDetector):
        return estimator.score_samples(X)
    return estimator.transform(X)


def rows(name, data):
    """The rows each estimator takes: complete, or with holes for the imputer."""
    return data["holed"] if name == "AutoencoderImputer" else data["X"]


def _same(a, b, rtol=1e-5):
    a = a.toarray() if sp.issparse(a) else np.asarray(a)
    b = b.toarray() if sp.issparse(b) else np.asarray(b)
    assert a.shape == b.shape and np.isfinite(a).all()
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6)


def _fitted(name, data, **kw):
    X = rows(name, data)
    return ESTIMATORS[name](**kw).fit(X), X


# ------------------------------------------------------------ capabilities
def save_and_load(name, data, monkeypatch):
    est, X = _fitted(name, data)
    path = data["tmp"] / f"{name}.skae"
    skae.save(est, path)
    _same(output(skae.load(path), X), output(est, X), rtol=0)


def pickling(name, data, monkeypatch):
    est, X = _fitted(name, data)
    _same(output(pickle.loads(pickle.dumps(est)), X), output(est, X), rtol=0)


def partial_fit(name, data, monkeypatch):
    X = rows(name, data)
    est = ESTIMATORS[name]().partial_fit(X[:150]).partial_fit(X[150:])
    inner = getattr(est, "estimator_", est)
    assert inner.n_iter_ == 2 and len(inner.loss_curve_) == 2
    assert np.isfinite(output(est, X)).all()


def sparse_input(name, data, monkeypatch):
    X = rows(name, data)
    # A CSR matrix (the imputer's holes are its stored NaN) trains as the
    # same dense rows do, batch by batch densified.
    sparse = sp.csr_matrix(X)
    est = ESTIMATORS[name]().fit(sparse)
    _same(output(est, sparse), output(ESTIMATORS[name]().fit(X), X))


def memmap_input(name, data, monkeypatch):
    X = rows(name, data)
    path = data["tmp"] / f"{name}.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    # Trained from the file block by block (another batch order than an
    # array's), then each row computed as from an array.
    est = ESTIMATORS[name]().fit(mapped)
    inner = getattr(est, "estimator_", est)
    assert inner.n_iter_ >= 1 and np.isfinite(inner.loss_curve_).all()
    _same(output(est, mapped), output(est, X), rtol=0)


def _set_output(container):
    def check(name, data, monkeypatch):
        est, X = _fitted(name, data)
        est.set_output(transform=container)
        frame_type = pd.DataFrame if container == "pandas" else __import__("polars").DataFrame
        if isinstance(est, AutoencoderOutlierDetector):  # its table: feature_errors
            out, columns = est.feature_errors(X), [f"x{i}" for i in range(X.shape[1])]
        else:
            out, columns = est.transform(X), list(est.get_feature_names_out())
        assert isinstance(out, frame_type) and list(out.columns) == columns
    check.__name__ = f"set_output_{container}"
    return check


class Decoder(nn.Linear):
    """A user's decoder: ``Decoder(n_features, latent_dim)``, linear."""

    def __init__(self, n_features, latent_dim):
        super().__init__(latent_dim, n_features)


def users_networks(name, data, monkeypatch):
    est, X = _fitted(name, data, encoder=TanhEncoder, decoder=Decoder)
    inner = getattr(est, "estimator_", est)
    assert inner.net_.module_.user_parts == {"encoder_body", "decoder"}
    assert np.isfinite(output(est, X)).all()


def tables(name, data, monkeypatch):
    table = data["table"]
    if name == "AutoencoderImputer":
        table = table.mask(np.random.default_rng(0).random(table.shape) < 0.2)
    est = ESTIMATORS[name]().fit(table)
    out = output(est, table)
    if name == "AutoencoderImputer":
        assert isinstance(out, pd.DataFrame) and not out.isna().any().any()
        assert out["digit"].dtype == table["digit"].dtype
    else:
        assert np.isfinite(out).all() and len(out) == len(table)


def onnx(name, data, monkeypatch):
    import onnxruntime

    est, X = _fitted(name, data)
    sample = X[:20].astype(np.float32)
    session = onnxruntime.InferenceSession(skae.to_onnx(est, sample).SerializeToString())
    got = session.run(None, {session.get_inputs()[0].name: sample})
    got = got[2].ravel() if name == "AutoencoderOutlierDetector" else got[0]
    want = output(est, sample)
    assert np.max(np.abs(got - want)) <= 1e-4 * max(np.max(np.abs(want)), 1e-6)


def interrupt_and_restore(name, data, monkeypatch):
    est, X = _fitted(name, data)
    before, attributes = output(est, X), set(vars(est))
    original, calls = AutoencoderNet.train_step, {"n": 0}

    def train_step(self, batch, **fit_params):  # Ctrl-C at the third step
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, batch, **fit_params)

    monkeypatch.setattr(AutoencoderNet, "train_step", train_step)
    try:
        est.fit(X[::-1].copy())
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt was swallowed")
    assert set(vars(est)) == attributes
    _same(output(est, X), before, rtol=0)


def threads(name, data, monkeypatch):
    X = rows(name, data)
    results = [None, None]

    def fit(i):
        results[i] = output(ESTIMATORS[name]().fit(X), X)

    workers = [threading.Thread(target=fit, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for result in results:
        _same(result, output(ESTIMATORS[name]().fit(X), X), rtol=0)


def inverse_transform(name, data, monkeypatch):
    if name == "AutoencoderImputer":  # the imputed entries back to holes
        est, X = _fitted(name, data, add_indicator=True)
        back = est.inverse_transform(est.transform(X))
        np.testing.assert_array_equal(np.isnan(back), np.isnan(X))
        np.testing.assert_array_equal(back[~np.isnan(X)], X[~np.isnan(X)])
        return
    est, X = _fitted(name, data)
    back = est.inverse_transform(est.transform(X))
    assert back.shape == X.shape and np.isfinite(back).all()


def ordered_codes(name, data, monkeypatch):
    if name == "AutoencoderImputer":  # raises the TypeError that REFUSED expects
        ESTIMATORS[name](ordered=True)
    est, X = _fitted(name, data, ordered=True)
    model = est.estimator_ if name == "AutoencoderOutlierDetector" else est
    assert model.explained_variance_ratio_.shape == (2,)
    _same(model.truncate(1).transform(X), model.transform(X)[:, :1])


#: Row label and check of each capability, in the table's order.
CAPABILITIES = {
    "`skae.save` / `skae.load`": save_and_load,
    "pickle": pickling,
    "`partial_fit`": partial_fit,
    "sparse input": sparse_input,
    "memory-mapped input": memmap_input,
    "`set_output` pandas": _set_output("pandas"),
    "`set_output` polars": _set_output("polars"),
    "`encoder=` / `decoder=`": users_networks,
    "tables with categories": tables,
    "ONNX export": onnx,
    "interrupt, model kept": interrupt_and_restore,
    "fits in threads": threads,
    "`inverse_transform`": inverse_transform,
    "ordered codes, `truncate`": ordered_codes,
}

#: Cells refused: (capability, estimator) -> (error, message pattern, why).
REFUSED = {
    ("`inverse_transform`", "AutoencoderOutlierDetector"): (
        AttributeError, "inverse_transform",
        "a detector has no transform to invert"),
    ("ordered codes, `truncate`", "AutoencoderImputer"): (
        TypeError, "ordered", "an imputer's code is read by no one"),
}

#: Notes on cells that work in a way of their own.
NOTES = {
    ("`set_output` pandas", "AutoencoderOutlierDetector"): "`feature_errors`",
    ("`set_output` polars", "AutoencoderOutlierDetector"): "`feature_errors`",
    ("`inverse_transform`", "AutoencoderImputer"): "holes back, with `add_indicator=True`",
    ("ordered codes, `truncate`", "AutoencoderOutlierDetector"): "its `estimator_`",
}


def markdown():
    """The capability matrix as the guide's Markdown table."""
    names = list(ESTIMATORS)
    short = {"AutoencoderTransformer": "autoencoder", "VAETransformer": "VAE",
             "AutoencoderOutlierDetector": "detector", "AutoencoderImputer": "imputer"}
    lines = ["| | " + " | ".join(f"[`{short[n]}`](#skae.{n})" for n in names) + " |",
             "|---" * (len(names) + 1) + "|"]
    for capability in CAPABILITIES:
        cells = []
        for name in names:
            if (capability, name) in REFUSED:
                cells.append(f"no: {REFUSED[capability, name][2]}")
            else:
                note = NOTES.get((capability, name))
                cells.append("yes" + (f" ({note})" if note else ""))
        lines.append(f"| {capability} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


GUIDE_INDEX = Path(__file__).resolve().parent.parent / "docs" / "site" / "guide" / "index.md"
MARKERS = ("<!-- capabilities: generated by tests/capabilities.py -->\n",
           "<!-- end of capabilities -->\n")


def page_table():
    """The table the guide's front page holds between the markers."""
    text = GUIDE_INDEX.read_text()
    start, end = text.index(MARKERS[0]) + len(MARKERS[0]), text.index(MARKERS[1])
    return text[start:end]


if __name__ == "__main__":
    print(markdown(), end="")
