"""Check an installed skae wheel the way a user meets it (run by ``make
wheel-check`` in a fresh environment holding only the wheel and its runtime
dependencies, from outside the checkout).

It asserts that ``skae`` is imported from the environment, not the checkout,
at the version pyproject.toml names; runs the README's Python blocks (the
quickstart; each printed line must be the one its comment shows); and runs
the doctested Examples of every estimator's docstring.
"""

import doctest
import importlib.util
import sys
from pathlib import Path

import skae

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("doc_blocks", ROOT / "tests" / "doc_blocks.py")
doc_blocks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(doc_blocks)

where = Path(skae.__file__).resolve()
assert where.parent != ROOT / "skae" and "site-packages" in where.parts, \
    f"skae was imported from {where}, not from an installed wheel"
wanted = doc_blocks.project()["version"]
assert skae.__version__ == wanted, (skae.__version__, wanted)
print(f"skae {skae.__version__} from {where.parent}")

doc_blocks.run_python_blocks(ROOT / "README.md")
print("README: every Python block ran and printed what it shows")

ESTIMATORS = (skae.AutoencoderTransformer, skae.VAETransformer, skae.AutoencoderOutlierDetector,
              skae.AutoencoderImputer, skae.AutoencoderRecommender)
runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
for cls in ESTIMATORS:
    tests = [t for t in doctest.DocTestFinder().find(cls, globs={}) if t.examples]
    assert tests, f"{cls.__name__} has no doctested example"
    for test in tests:
        runner.run(test)
    print(f"{cls.__name__}: {sum(len(t.examples) for t in tests)} doctest lines")
results = runner.summarize(verbose=False)
sys.exit(1 if results.failed else 0)
