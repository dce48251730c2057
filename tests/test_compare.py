"""The report command end to end on tiny data, and its dataset errors."""

import json
import re
from csv import DictReader

import numpy as np
import pytest

from skae.compare import explained_variance, load_dataset, main

pytestmark = pytest.mark.xdist_group("compare")

FAST = ["--ae-params", json.dumps({"hidden_layer_sizes": [16], "max_epochs": 3}),
        "--vae-params", json.dumps({"hidden_layer_sizes": [16], "max_epochs": 3}),
        "--quiet"]


def test_report_on_digits_subset(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["--max-train", "200", "--max-test", "100", "--latent-dims", "2", "5",
                 "--out", str(out), *FAST]) == 0
    assert capsys.readouterr().out == ""  # --quiet
    with open(out / "results.csv") as f:
        results = [{k: v if k == "method" else float(v) for k, v in row.items()}
                   for row in DictReader(f)]
    assert {(r["method"], r["latent_dim"]) for r in results} == {
        (m, d) for m in ("PCA", "KernelPCA", "AutoencoderTransformer", "VAETransformer")
        for d in (2, 5)}
    for r in results:
        assert np.isfinite([r["sse"], r["mse"], r["knn"], r["logreg"], r["trust"]]).all()
        assert r["sse"] == pytest.approx(r["mse"] * 64)
        assert 0 <= r["knn"] <= 1 and 0 <= r["trust"] <= 1
        assert np.isfinite(r["elbo"]) == (r["method"] == "VAETransformer")
    report = (out / "report.md").read_text()
    assert re.search(r"\| PCA +\| +2 \|", report) and "200 training and 100 test rows" in report
    assert "## How many dimensions" in report and "| 90% |" in report
    for name in ("reconstruction_error", "codes_2d", "reconstructions", "vae_samples",
                 "loss_curves", "explained_variance"):
        assert (out / f"{name}.png").stat().st_size > 1000
        assert f"({name}.png)" in report
    assert len((out / "results.csv").read_text().splitlines()) == 1 + len(results)


def test_explained_variance_of_each_prefix_from_one_fit_each():
    data = load_dataset("digits", max_train=300, max_test=100)
    curves = explained_variance(data, 6, {"hidden_layer_sizes": [16], "max_epochs": 5})
    assert list(curves["k"]) == [1, 2, 3, 4, 5, 6]
    pca = np.asarray(curves["PCA"])
    assert np.all(np.diff(pca) > 0) and 0 < pca[0] < pca[-1] < 1
    # The ordered code's start is PCA's; five epochs keep it near or above.
    assert np.all(np.asarray(curves["ordered AutoencoderTransformer"]) > pca - 0.05)
    assert set(curves["fit_s"]) == {"PCA", "ordered AutoencoderTransformer"}


def test_progress_and_table_without_quiet(tmp_path, capsys):
    main(["--max-train", "100", "--max-test", "50", "--latent-dims", "2", "--methods", "PCA",
          "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert re.search(r"\| PCA +\| +2 \|", captured.out) and "report:" in captured.out
    assert "comparing" in captured.err  # the progress bar


def test_user_csv_and_npz(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    csv = tmp_path / "data.csv"
    rows = "\n".join(",".join(f"{v:.5f}" for v in row) + f",{label}"
                     for row, label in zip(X, y, strict=True))
    csv.write_text("a,b,c,d,label\n" + rows + "\n")
    data = load_dataset(str(csv), label_column="label")
    assert data.X_train.shape == (48, 4) and set(data.y_train) == {"0", "1"}
    assert abs(data.X_train.mean()) < 0.2  # standardized ("auto" on real-valued data)
    assert main(["--dataset", str(csv), "--label-column", "label", "--latent-dims", "2",
                 "--methods", "PCA", "AutoencoderTransformer", "--out", str(tmp_path / "r"),
                 *FAST]) == 0
    with open(tmp_path / "r" / "results.csv") as f:
        results = list(DictReader(f))
    assert len(results) == 2 and np.isfinite(float(results[1]["knn"]))
    np.savez(tmp_path / "data.npz", X=rng.integers(0, 256, (50, 9)))
    data = load_dataset(str(tmp_path / "data.npz"), image_shape=(3, 3))
    assert data.y_train is None and data.X_train.max() <= 1  # integers scaled by the max


def test_mnist_from_idx_directory(tmp_path):
    import gzip

    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        for kind, array, magic in (("images", rng.integers(0, 256, (n, 28, 28)), 0x0803),
                                   ("labels", np.arange(n) % 10, 0x0801)):
            header = magic.to_bytes(4, "big") + b"".join(
                d.to_bytes(4, "big") for d in array.shape)
            with gzip.open(tmp_path / f"{prefix}-{kind}-idx{array.ndim}-ubyte.gz", "wb") as f:
                f.write(header + array.astype(np.uint8).tobytes())
    data = load_dataset("mnist", mnist_dir=tmp_path)
    assert data.X_train.shape == (40, 784) and data.image_shape == (28, 28)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "/no/such/file.npy"], "not found: expected 'digits', 'mnist'"),
        (["--dataset", "mnist", "--mnist-dir", "/no/such/dir"], "lacks train-images"),
        (["--dataset", "BAD_NPY"], "could not be read"),
        (["--dataset", "BAD_SHAPE"], "expected a 2-D matrix"),
        (["--dataset", "BAD_CSV"], "non-numeric values"),
        (["--dataset", "digits", "--image-shape", "5", "5"], "does not match 64 features"),
    ],
)
def test_bad_dataset_errors(tmp_path, capsys, argv, message):
    (tmp_path / "bad.npy").write_bytes(b"garbage")
    np.save(tmp_path / "shape.npy", np.zeros(20))
    (tmp_path / "bad.csv").write_text("1,2,x\n3,4,y\n")
    paths = {"BAD_NPY": "bad.npy", "BAD_SHAPE": "shape.npy", "BAD_CSV": "bad.csv"}
    argv = [str(tmp_path / paths[a]) if a in paths else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path / "r"), "--quiet"])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_umap_is_an_optional_method(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "umap" else real(name, *a))
    with pytest.raises(SystemExit) as exit_info:
        main(["--methods", "PCA", "UMAP", "--out", str(tmp_path), "--quiet"])
    assert exit_info.value.code == 2
    assert "pip install umap-learn" in capsys.readouterr().err


@pytest.mark.quality
def test_umap_in_the_report_when_installed(tmp_path):
    pytest.importorskip("umap")
    assert main(["--max-train", "300", "--max-test", "100", "--latent-dims", "2",
                 "--methods", "PCA", "UMAP", "--out", str(tmp_path), "--quiet"]) == 0
    with open(tmp_path / "results.csv") as f:
        rows = {row["method"]: row for row in DictReader(f)}
    assert float(rows["UMAP"]["trust"]) > float(rows["PCA"]["trust"])
    assert np.isnan(float(rows["UMAP"]["sse"]))
