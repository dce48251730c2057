"""The package's layering: imports in one direction, skorch in one layer."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skae"
#: The torch layer: torch, numpy and scikit-learn utilities, nothing above it.
TORCH_LAYER = {"_loss", "_kinds", "_networks", "_modules", "_linear_start", "_batches", "_holdout",
               "_runtime", "_structure", "_ordered"}
#: The skorch layer: the only modules that import skorch (or build on its nets).
SKORCH_LAYER = {"_net", "_policy"}


def _imports(name):
    """Top-level packages and skae modules that ``skae/<name>.py`` imports."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: a skae module
                found.add(node.module.split(".")[0] if node.module else "")
            else:
                found.add(node.module.split(".")[0])
    return found


MODULES = sorted(p.stem for p in PACKAGE.glob("*.py"))


@pytest.mark.parametrize("name", MODULES)
def test_only_the_skorch_layer_imports_skorch(name):
    assert "skorch" not in _imports(name) or name in SKORCH_LAYER


@pytest.mark.parametrize("name", sorted(TORCH_LAYER))
def test_the_torch_layer_imports_nothing_above_it(name):
    skae_modules = {m for m in _imports(name) if m in MODULES}
    assert skae_modules <= TORCH_LAYER, skae_modules - TORCH_LAYER


@pytest.mark.parametrize("name", sorted(SKORCH_LAYER))
def test_the_skorch_layer_imports_no_estimator(name):
    skae_modules = {m for m in _imports(name) if m in MODULES}
    assert skae_modules <= TORCH_LAYER | SKORCH_LAYER, skae_modules


def test_modules_stay_small():
    """About 300 lines at most; the exceptions say why (ARCHITECTURE.md)."""
    reasons = {
        "datasets.py": "the dataset registry and the user-file and MNIST readers it needs",
        "_net.py": "the skorch net: data path, epoch loop, step and data-parallel step",
        "_imputer.py": "one estimator; a third of it is its docstring",
        "_recommender.py": "one estimator; a third of it is its docstring",
        "_loss.py": "the four likelihoods (squared error, BCE, a table's, the multinomial) "
                    "behind one protocol",
        "_base.py": "the 23 shared parameters, listed once for all leaves, fit and partial_fit",
        "_table.py": "a table's columns: kinds, encoding and decoding, for pandas, polars "
                     "and arrays alike",
        "_structure.py": "UMAP's graph, layout, placement of new rows and loss on codes: "
                         "one concept whose four steps share the curve and the memberships",
    }
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    too_long = {name: n for name, n in sizes.items() if n > 310 and name not in reasons}
    assert not too_long
    assert all(sizes[name] <= 400 for name in reasons)


@pytest.mark.parametrize("name", MODULES)
def test_no_module_imports_the_package_root(name):
    """``from . import X`` would read skae/__init__.py from below it (the
    version is ``_version``'s)."""
    assert "" not in _imports(name) or name == "__init__"


def test_the_version_is_the_metadatas_one():
    from importlib.metadata import version

    import skae

    assert skae.__version__ == version("skae")

