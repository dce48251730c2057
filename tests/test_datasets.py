import gzip

import numpy as np
import pytest

from skae.datasets import MNIST_ENV, load_mnist


def _write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(
        d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 6), ("t10k", 4)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz",
                   rng.integers(0, 256, (n, 28, 28)), 0x0803)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10, 0x0801)
    return tmp_path


def test_load_mnist_reads_idx_files(tiny_mnist, monkeypatch):
    X, y = load_mnist(tiny_mnist, "train")
    assert X.shape == (6, 784) and X.dtype == np.float32
    assert 0 <= X.min() and X.max() <= 1
    assert y.tolist() == [0, 1, 2, 3, 4, 5]
    monkeypatch.setenv(MNIST_ENV, str(tiny_mnist))
    assert load_mnist(subset="test")[0].shape == (4, 784)


def test_load_mnist_errors(tiny_mnist, tmp_path, monkeypatch):
    monkeypatch.delenv(MNIST_ENV, raising=False)
    with pytest.raises(ValueError, match=MNIST_ENV):
        load_mnist()
    with pytest.raises(ValueError, match="lacks t10k-images"):
        load_mnist(tmp_path / "nowhere", "test")
    with pytest.raises(ValueError, match="subset"):
        load_mnist(tiny_mnist, "valid")
    (tiny_mnist / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="not a readable gzip"):
        load_mnist(tiny_mnist, "test")
    _write_idx(tiny_mnist / "t10k-labels-idx1-ubyte.gz", np.arange(4), 0x0803)
    with pytest.raises(ValueError, match="magic number"):
        load_mnist(tiny_mnist, "test")
