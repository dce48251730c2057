"""Datasets of skae's comparison report and benchmarks: one registry of named
datasets, user files, and the MNIST reader.

:func:`load_dataset` turns a name in :data:`DATASETS`, ``openml:NAME`` or a
``.npy``/``.npz``/``.csv`` path into a scaled train/test :class:`Dataset`.
"""

import gzip
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

__all__ = ["DATASETS", "MNIST_ENV", "MOVIELENS_ENV", "Dataset", "hide_at_random",
           "load_dataset", "load_mnist", "load_movielens", "svd_impute", "synthetic_pairs",
           "synthetic_ratings"]

#: Environment variable naming the directory of the MNIST IDX files.
MNIST_ENV = "SKAE_MNIST_DIR"

from ._ratings_data import (  # noqa: E402  (ratings: the recommender's data)
    MOVIELENS_ENV as _MOVIELENS_ENV,
)
from ._ratings_data import (  # noqa: E402
    load_movielens,
    svd_impute,
    synthetic_pairs,
    synthetic_ratings,
)

#: Environment variable naming MovieLens-100K's directory or ratings file.
MOVIELENS_ENV = _MOVIELENS_ENV

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


# ------------------------------------------------------------ the registry
@dataclass(frozen=True)
class Dataset:
    """A train/test split as :func:`load_dataset` gives it; never modified:
    derive new ones with :func:`dataclasses.replace`.

    Parameters
    ----------
    name : str
        The dataset's name, as :func:`load_dataset` takes it.
    X_train, X_test : ndarray
        The scaled training and test rows.
    y_train, y_test : ndarray or None
        Their labels, where the data has any.
    image_shape : tuple or None
        The shape of one row as an image, for figures.
    notes : tuple of str
        How the data was split, scaled and subsampled.
    """

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray = None
    y_test: np.ndarray = None
    image_shape: tuple = None
    notes: tuple = ()

    def with_note(self, note):
        """This dataset with ``note`` added to its notes.

        Parameters
        ----------
        note : str
            What was done to the data.
        """
        return replace(self, notes=(*self.notes, note))


def _split(X, y, test_size=0.2):
    """Stratified (where every class has two rows) 80/20 split, random_state=0."""
    if y is None:
        X_train, X_test = train_test_split(X, test_size=test_size, random_state=0)
        return X_train, X_test, None, None
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    return train_test_split(X, y, test_size=test_size, stratify=stratify, random_state=0)


def _digits(mnist_dir=None):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (*_split(X / 16.0, y), (8, 8), "none",
            "scikit-learn's digits, X / 16, stratified 80/20 split (random_state=0)")


def _bundled(name):
    def load(mnist_dir=None):
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, f"load_{name}")(return_X_y=True)
        return (*_split(X, y), None, "auto",
                f"scikit-learn's {name}, stratified 80/20 split (random_state=0)")
    return load


def _mnist(mnist_dir=None):
    X_train, y_train = load_mnist(mnist_dir or os.environ.get(MNIST_ENV), "train")
    X_test, y_test = load_mnist(mnist_dir or os.environ.get(MNIST_ENV), "test")
    return (X_train, X_test, y_train, y_test, (28, 28), "none",
            "MNIST, pixels / 255, the official 60,000 / 10,000 split")


#: Named datasets: a loader of ``(X_train, X_test, y_train, y_test,
#: image_shape, default scale, note)`` for each name.
DATASETS = {
    "digits": _digits,
    "breast_cancer": _bundled("breast_cancer"),
    "wine": _bundled("wine"),
    "iris": _bundled("iris"),
    "mnist": _mnist,
}


def _openml(name):
    from sklearn.datasets import fetch_openml

    try:
        bunch = fetch_openml(name, as_frame=False, parser="auto")
    except Exception as exc:  # offline: URLError, OSError, ...
        raise ValueError(f"fetch_openml({name!r}) failed ({exc}); it needs the network "
                         "and an OpenML dataset name.") from exc
    X, y = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target)
    return (*_split(X, y), None, "auto",
            f"OpenML {name!r}, stratified 80/20 split (random_state=0)")


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
    """Both parts scaled with statistics of the training part, and the
    scaling used (``"auto"`` resolved)."""
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


def _subsample(X, y, n, rng):
    keep = np.sort(rng.choice(len(X), n, replace=False))
    return X[keep], None if y is None else y[keep]


def load_dataset(spec="digits", *, mnist_dir=None, label_column=None, scale="auto",
                 max_train=None, max_test=None, image_shape=None):
    """Load ``spec`` as a scaled train/test :class:`Dataset`.

    Parameters
    ----------
    spec : str, default="digits"
        A name in :data:`DATASETS` (``"digits"``, ``"breast_cancer"``,
        ``"wine"``, ``"iris"``, ``"mnist"``), ``"openml:NAME"`` or a
        ``.npy``/``.npz``/``.csv`` path.
    mnist_dir : str, default=None
        Directory of the MNIST IDX files (default: ``$SKAE_MNIST_DIR``).
    label_column : str, default=None
        Name or index of a CSV file's label column.
    scale : {"auto", "standard", "max", "none"}, default="auto"
        ``"auto"`` keeps the named datasets' own scaling and data in [0, 1],
        divides non-negative integers by their maximum, and standardizes
        anything else.
    max_train, max_test : int, default=None
        Keep at most this many (randomly chosen) training / test rows.
    image_shape : tuple of int, default=None
        Shape of one sample as an image, for the reconstruction figure.

    Returns
    -------
    dataset : Dataset
    """
    if spec in DATASETS:
        loaded = DATASETS[spec](mnist_dir)
        name = spec
    elif spec.startswith("openml:"):
        loaded = _openml(spec.split(":", 1)[1])
        name = spec.split(":", 1)[1]
    else:
        X, y = _read_matrix(spec, label_column)
        loaded = (*_split(X, y), None, "auto", f"{spec}, 80/20 split (random_state=0)")
        name = Path(spec).stem
    X_train, X_test, y_train, y_test, own_shape, own_scale, note = loaded
    notes = [note]
    X_train, X_test, used = _scale(X_train, X_test, own_scale if scale == "auto" else scale)
    if used != "none":
        notes.append(f"scaled with '{used}' statistics of the training rows")
    rng = np.random.default_rng(0)
    if max_train and len(X_train) > max_train:
        X_train, y_train = _subsample(X_train, y_train, max_train, rng)
        notes.append(f"{max_train} training rows kept")
    if max_test and len(X_test) > max_test:
        X_test, y_test = _subsample(X_test, y_test, max_test, rng)
        notes.append(f"{max_test} test rows kept")
    image_shape = image_shape or own_shape
    if image_shape is not None and math.prod(image_shape) != X_train.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} does not match "
                         f"{X_train.shape[1]} features.")
    return Dataset(name, np.ascontiguousarray(X_train, dtype=np.float32),
                   np.ascontiguousarray(X_test, dtype=np.float32), y_train, y_test,
                   tuple(image_shape) if image_shape else None, tuple(notes))


def hide_at_random(X, rate, *, random_state=0):
    """A copy of X with a ``rate`` fraction of its entries hidden (NaN)
    completely at random (MCAR), and the boolean mask of the hidden entries.

    The protocol of skae's imputation tests and benchmarks: each entry is
    hidden independently, ``np.random.default_rng(random_state).random(X.shape)
    < rate``; imputers are scored by the RMSE on the hidden entries.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The complete data; it is copied, never modified.
    rate : float
        The probability that an entry is hidden.
    random_state : int, default=0
        Seed of the generator the draws come from.

    Returns
    -------
    X_missing : ndarray of shape (n_samples, n_features)
        A float copy of ``X`` with the hidden entries NaN.
    hidden : ndarray of bool of shape (n_samples, n_features)
        Which entries were hidden.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.datasets import hide_at_random
    >>> X_missing, hidden = hide_at_random(np.ones((4, 5)), 0.5, random_state=0)
    >>> bool(np.isnan(X_missing[hidden]).all()), bool(np.isnan(X_missing[~hidden]).any())
    (True, False)
    """
    X = np.array(X, dtype=float)
    hidden = np.random.default_rng(random_state).random(X.shape) < rate
    X[hidden] = np.nan
    return X, hidden
