"""skae.to_onnx: exported models compute what skae computes, in onnxruntime
(skipped without the onnx extra)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from networks import TanhEncoder
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

import skae
from skae import (
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    VAETransformer,
)
from skae.datasets import hide_at_random

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.xdist_group("onnx")

FAST = dict(hidden_layer_sizes=(32,), max_epochs=3, random_state=0)


@pytest.fixture(scope="module")
def digits():
    """797 training rows and 1,000 held-out rows of digits in [0, 1], float32."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    return X[:797], X[797:], y[:797], y[797:]


def run(onnx_model, X):
    """All outputs of an ONNX model on X, run in onnxruntime."""
    session = ort.InferenceSession(onnx_model.SerializeToString())
    return session.run(None, {session.get_inputs()[0].name: X})


def assert_close(got, want):
    """Equal to 1e-5 of the output's scale (max abs difference)."""
    got, want = np.asarray(got, np.float64).reshape(np.shape(want)), np.asarray(want)
    assert np.max(np.abs(got - want)) <= 1e-5 * max(np.max(np.abs(want)), 1e-12)


TRANSFORMERS = {
    "ae": lambda: AutoencoderTransformer(2, **FAST),
    "ae-bce-denoising": lambda: AutoencoderTransformer(3, loss="bce", noise=0.1, **FAST),
    "ae-conv": lambda: AutoencoderTransformer(2, architecture="conv", image_shape=(8, 8),
                                              conv_channels=(4,), **FAST),
    "ae-users-encoder": lambda: AutoencoderTransformer(2, encoder=TanhEncoder, **FAST),
    "ae-structure": lambda: AutoencoderTransformer(2, structure="umap", **FAST),
    "vae": lambda: VAETransformer(2, **FAST),
    "vae-bce": lambda: VAETransformer(2, loss="bce", **FAST),
}


@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformers_export_each_method(name, digits):
    X_train, X_test = digits[:2]
    est = TRANSFORMERS[name]().fit(X_train)
    codes = est.transform(X_test)
    for method, X in (("transform", X_test), ("inverse_transform", codes),
                      ("score_samples", X_test)):
        onnx_model = skae.to_onnx(est, X[:5], method=method)
        for rows in (1, 1000):
            assert_close(run(onnx_model, X[:rows])[0], getattr(est, method)(X[:rows]))


def test_detector_exports_label_scores_and_score_samples(digits):
    X_train, X_test = digits[:2]
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(4, **FAST),
                                          contamination=0.1).fit(X_train)
    onnx_model = skae.to_onnx(detector, X_test[:5])
    for rows in (1, 1000):
        label, scores, raw = run(onnx_model, X_test[:rows])
        np.testing.assert_array_equal(label.ravel(), detector.predict(X_test[:rows]))
        assert_close(scores, detector.decision_function(X_test[:rows]))
        assert_close(raw, detector.score_samples(X_test[:rows]))


@pytest.mark.parametrize("options", [{}, {"add_indicator": True},
                                     {"keep_empty_features": True, "add_indicator": True},
                                     {"missing_values": -1.0}])
def test_imputer_fills_holes_inside_the_graph(options, digits):
    X_train, X_test = digits[:2]
    holes = {"missing_values": options.get("missing_values", np.nan)}

    def with_holes(X, seed):
        X = hide_at_random(X, 0.2, random_state=seed)[0].astype(np.float32)
        X[:, 0] = np.nan  # a column without any observed value
        return np.where(np.isnan(X), holes["missing_values"], X).astype(np.float32)

    imputer = AutoencoderImputer(hidden_layer_sizes=(32,), latent_dim=16, max_epochs=3,
                                 random_state=0, **options).fit(with_holes(X_train, 0))
    X = with_holes(X_test, 1)
    onnx_model = skae.to_onnx(imputer, X[:5])
    for rows in (1, 1000):
        np.testing.assert_allclose(run(onnx_model, X[:rows])[0], imputer.transform(X[:rows]),
                                   rtol=0, atol=1e-5)


def test_pipeline_predictions_equal_sklearns(digits):
    X_train, X_test, y_train, _ = digits
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(8, **FAST),
                         LogisticRegression(max_iter=500)).fit(X_train, y_train)
    label = run(skae.to_onnx(pipe, X_test[:5]), X_test)[0]
    np.testing.assert_array_equal(label, pipe.predict(X_test))


def test_column_transformer_mixing_skae_and_sklearn_steps(digits):
    X_train, X_test, y_train, _ = digits
    columns = ColumnTransformer([("ae", AutoencoderTransformer(4, **FAST), slice(0, 40)),
                                 ("scaled", StandardScaler(), slice(40, 64))])
    pipe = make_pipeline(columns, LogisticRegression(max_iter=500)).fit(X_train, y_train)
    label = run(skae.to_onnx(pipe, X_test[:5]), X_test)[0]
    np.testing.assert_array_equal(label, pipe.predict(X_test))


def test_feature_union_and_dataframe_columns(digits):
    import pandas as pd

    X_train, X_test, y_train, _ = digits
    union = FeatureUnion([("ae", AutoencoderTransformer(3, **FAST)), ("pca", PCA(3))])
    union.fit(X_train)
    assert_close(run(skae.to_onnx(union, X_test[:5]), X_test)[0], union.transform(X_test))
    # A DataFrame: skl2onnx makes each column an input; columns picked by name.
    names = [f"pixel{i}" for i in range(64)]
    frame_train, frame_test = (pd.DataFrame(X, columns=names) for X in (X_train, X_test))
    columns = ColumnTransformer([("ae", AutoencoderTransformer(4, **FAST), names[:40]),
                                 ("scaled", StandardScaler(), names[40:])])
    pipe = make_pipeline(columns, LogisticRegression(max_iter=500)).fit(frame_train, y_train)
    session = ort.InferenceSession(skae.to_onnx(pipe, frame_train[:5]).SerializeToString())
    label = session.run(None, {name: frame_test[[name]].to_numpy() for name in names})[0]
    np.testing.assert_array_equal(label, pipe.predict(frame_test))


def test_skl2onnx_converts_skae_steps_directly(digits):
    from skl2onnx import to_onnx

    X_train, X_test = digits[:2]
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(2, **FAST)).fit(X_train)
    assert_close(run(to_onnx(pipe, X_test[:5]), X_test)[0], pipe.transform(X_test))


_WITHOUT_TORCH = """
import sys
sys.modules["torch"] = sys.modules["skae"] = None  # import torch / skae fail
for name in ("torch", "skae"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(name + " imported")
import numpy as np, onnxruntime
session = onnxruntime.InferenceSession(sys.argv[1])
X = np.load(sys.argv[2])
np.save(sys.argv[3], session.run(None, {session.get_inputs()[0].name: X})[0])
"""


def test_exported_pipeline_runs_where_torch_and_skae_cannot_be_imported(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(8, **FAST),
                         LogisticRegression(max_iter=500)).fit(X_train, y_train)
    paths = [tmp_path / name for name in ("model.onnx", "X.npy", "label.npy")]
    paths[0].write_bytes(skae.to_onnx(pipe, X_test[:5]).SerializeToString())
    np.save(paths[1], X_test)
    result = subprocess.run([sys.executable, "-c", _WITHOUT_TORCH, *map(str, paths)],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(paths[2]), pipe.predict(X_test))


class _DataDependent(nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # control flow on values: torch's exporter cannot trace it
            return 2 * x
        return x


class _UnexportableEncoder(nn.Module):
    def __init__(self, n_features, latent_dim):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, 8), _DataDependent(),
                                  nn.Linear(8, latent_dim))

    def forward(self, x):
        return self.body(x)


@pytest.fixture(scope="module")
def table():
    """Penguins with a boolean column and the year as integer categories,
    fitted on 250 rows; the 83 others held out, one on an unseen island."""
    penguins = pytest.importorskip("palmerpenguins")
    frame = penguins.load_penguins().dropna().sample(frac=1.0, random_state=0)
    frame["heavy"] = frame["body_mass_g"] > 4200
    held_out = frame.iloc[250:].copy()
    held_out.loc[held_out.index[0], "island"] = "Atlantis"
    return frame.iloc[:250], held_out


def table_feeds(frame):
    """A DataFrame as onnxruntime takes skl2onnx's inputs: a column each."""
    feeds = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype.kind not in "biuf":
            values = values.astype(str)
        feeds[name] = values.reshape(-1, 1)
    return feeds


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_tables_export_their_encoding(Est, table):
    """Strings, integer codes and booleans are encoded inside the graph (an
    unseen category: all zeros, as in Python); transform, score_samples and
    a pipeline's predictions are skae's."""
    train, test = table
    model = Est(2, categorical_features=["species", "island", "sex", "year"],
                **FAST).fit(train)
    with pytest.warns(UserWarning, match="Atlantis"):
        codes, scores = model.transform(test), model.score_samples(test)
    # (The VAE's score_samples exports too, but in 20 s: its ELBO over fixed
    # draws traces every column's part once per draw.)
    checks = (("transform", codes),) + ((("score_samples", scores),)
                                        if Est is AutoencoderTransformer else ())
    for method, want in checks:
        session = ort.InferenceSession(
            skae.to_onnx(model, train.head(5), method=method).SerializeToString())
        assert_close(session.run(None, table_feeds(test))[0], want)
    if Est is VAETransformer:
        return
    species = train["species"].to_numpy()
    pipeline = make_pipeline(model, LogisticRegression()).fit(train, species)
    session = ort.InferenceSession(skae.to_onnx(pipeline, train.head(5)).SerializeToString())
    with pytest.warns(UserWarning, match="Atlantis"):
        want = pipeline.predict(test)
    assert (session.run(None, table_feeds(test))[0] == want).all()


def test_a_polars_table_exports(table):
    """A model fitted on a polars DataFrame exports from a polars sample; the
    graph's inputs are its columns, Enum and Categorical ones as strings."""
    pl = pytest.importorskip("polars")
    train, test = (pl.DataFrame({name: part[name].tolist() for name in part.columns})
                   .with_columns(pl.col("species").cast(pl.Enum(["Adelie", "Chinstrap",
                                                                 "Gentoo"])),
                                 pl.col("island").cast(pl.Categorical))
                   for part in (table[0], table[1].iloc[1:]))  # no unseen island
    model = AutoencoderTransformer(2, **FAST).fit(train)
    feeds = {name: np.array(test[name].to_list(), dtype=str if test[name].dtype in (
        pl.Enum, pl.Categorical, pl.String) else None).reshape(-1, 1) for name in test.columns}
    codes = run_feeds(skae.to_onnx(model, train.head(5)), feeds)[0]
    assert_close(codes, model.transform(test))


def test_a_detector_on_a_table_exports(table):
    train, test = table
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(2, **FAST)).fit(train)
    label, scores, raw = run_feeds(skae.to_onnx(detector, train.head(5)), table_feeds(test))
    with pytest.warns(UserWarning, match="Atlantis"):
        assert_close(raw, detector.score_samples(test))
        assert (label.ravel() == detector.predict(test)).all()


def run_feeds(onnx_model, feeds):
    return ort.InferenceSession(onnx_model.SerializeToString()).run(None, feeds)


def test_what_a_table_cannot_export_says_why(table):
    train, _ = table
    model = AutoencoderTransformer(2, **FAST).fit(train)
    with pytest.raises(ValueError, match="inverse_transform returns the user's table"):
        skae.to_onnx(model, model.transform(train.head(5)), method="inverse_transform")
    imputer = AutoencoderImputer(max_epochs=2, random_state=0).fit(train)
    with pytest.raises(ValueError, match="it fills categories"):
        skae.to_onnx(imputer, train.head(5))
    with pytest.raises(ValueError, match="not the fitted table's"):
        skae.to_onnx(model, train.head(5)[train.columns[::-1]])


def test_what_cannot_be_exported_says_why(digits):
    X_train = digits[0]
    ae = AutoencoderTransformer(2, encoder=_UnexportableEncoder, **FAST).fit(X_train)
    with pytest.raises(ValueError, match=r"layer 'encoder_body\.body\.1' \(_DataDependent\)"):
        skae.to_onnx(ae, X_train[:5])
    neighbours = AutoencoderTransformer(2, transform_neighbors=5, **FAST).fit(X_train)
    with pytest.raises(ValueError, match="transform_neighbors=5 cannot be exported"):
        skae.to_onnx(neighbours, X_train[:5])
    detector = AutoencoderOutlierDetector(PCA(2)).fit(X_train)  # fit and score_samples
    with pytest.raises(ValueError, match="around skae's transformers only"):
        skae.to_onnx(detector, X_train[:5])
    with pytest.raises(ValueError, match="method must be"):
        skae.to_onnx(neighbours, X_train[:5], method="predict")


def test_without_the_extra_to_onnx_names_it():
    code = ("import sys; sys.modules['skl2onnx'] = None\n"
            "import skae\n"
            "try:\n"
            "    skae.to_onnx(None, None)\n"
            "except ImportError as exc:\n"
            "    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert "pip install 'skae[onnx]'" in result.stdout, result.stderr
