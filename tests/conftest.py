import os

# The suite runs on two pytest-xdist workers: one compute thread each keeps two
# cores from being oversubscribed (small networks run fastest on one thread).
# Set before torch is imported; subprocesses started by tests inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


@pytest.fixture(scope="session")
def digits_split():
    """scikit-learn's digits scaled to [0, 1], stratified 80/20, random_state=0."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.2, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def small_X():
    """A small real dataset in [0, 1] for fast behavioural tests."""
    X, _ = load_digits(return_X_y=True)
    return np.ascontiguousarray(X[:300] / 16.0)
