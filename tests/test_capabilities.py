"""Every shared capability works in each of the four estimators, or is
refused with an error that says why; the guide's front page shows the
matrix as this test runs it (``tests/capabilities.py``)."""

import numpy as np
import pandas as pd
import pytest
from capabilities import CAPABILITIES, ESTIMATORS, REFUSED, markdown, page_table

from skae.datasets import hide_at_random


@pytest.fixture(scope="module")
def data(small_X, tmp_path_factory):
    holed, _ = hide_at_random(small_X, 0.2, random_state=0)
    table = pd.DataFrame(small_X[:, 20:26], columns=[f"px{i}" for i in range(6)])
    table["digit"] = pd.Categorical(np.asarray(["low", "mid", "high"])[
        np.arange(len(small_X)) % 3])
    return {"X": small_X, "holed": holed, "table": table,
            "tmp": tmp_path_factory.mktemp("capabilities")}


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("capability", list(CAPABILITIES))
def test_capability(capability, name, data, monkeypatch):
    if capability == "ONNX export":
        pytest.importorskip("onnxruntime")
    if "polars" in capability:
        pytest.importorskip("polars")
    check = CAPABILITIES[capability]
    refused = REFUSED.get((capability, name))
    if refused is None:
        check(name, data, monkeypatch)
        return
    error, pattern, _ = refused
    with pytest.raises(error, match=pattern):
        check(name, data, monkeypatch)


def test_the_guide_shows_the_matrix_as_tested():
    assert page_table() == markdown(), (
        "docs/site/guide/index.md is out of date: paste `python tests/capabilities.py` "
        "between its capabilities markers.")
