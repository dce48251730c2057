"""Dataset loaders for skae's benchmarks."""

import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["MNIST_ENV", "load_mnist"]

#: Environment variable naming the directory of the MNIST IDX files.
MNIST_ENV = "SKAE_MNIST_DIR"

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _read_idx(path, ndim):
    """Array from a gzip-compressed IDX file of unsigned bytes with ``ndim`` dims."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable gzip-compressed IDX file: {exc}") from exc
    magic = 0x0800 + ndim
    header = 4 + 4 * ndim
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise ValueError(
            f"{path} is not an IDX file of unsigned bytes with {ndim} dimension(s) "
            f"(expected magic number 0x{magic:08X})."
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: header announces shape {shape} but the data size differs.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(data_dir=None, subset="train"):
    """Load MNIST from a directory of the original IDX ``.gz`` files.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        Directory holding ``train-images-idx3-ubyte.gz``,
        ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
        ``t10k-labels-idx1-ubyte.gz``. None reads the environment variable
        ``SKAE_MNIST_DIR``.
    subset : {"train", "test"}, default="train"
        The 60,000 training or the 10,000 test images.

    Returns
    -------
    X : ndarray of shape (n_images, 784), float32
        Pixel intensities scaled to [0, 1].
    y : ndarray of shape (n_images,), int64
        Digit labels.

    Raises
    ------
    ValueError
        If no directory is given, a file is missing, or a file is malformed.
    """
    if subset not in _MNIST_FILES:
        raise ValueError(f"subset must be 'train' or 'test'; got {subset!r}.")
    if data_dir is None:
        data_dir = os.environ.get(MNIST_ENV)
        if not data_dir:
            raise ValueError(
                f"No MNIST directory given: pass one or set {MNIST_ENV} to a directory "
                "of the original IDX .gz files."
            )
    data_dir = Path(data_dir)
    paths = [data_dir / name for name in _MNIST_FILES[subset]]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ValueError(
            f"MNIST directory {data_dir} lacks {', '.join(missing)}; expected the "
            f"original IDX .gz files: {', '.join(_MNIST_FILES[subset])}."
        )
    images, labels = _read_idx(paths[0], 3), _read_idx(paths[1], 1)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels in {data_dir}.")
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return X, labels.astype(np.int64)
