# `make compare` runs the main job, `make test` the tests; both set up .venv first.
# torch comes from PyTorch's CPU wheel index (the CPU build, about 200 MB, no CUDA
# packages); for a GPU build pass e.g. TORCH_INDEX=https://download.pytorch.org/whl/cu128.
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
PIP_FLAGS := -q -c constraints.txt

.PHONY: compare test test-quality lint docs install dist wheel-check
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --retries 1 --extra-index-url $(TORCH_INDEX) torch
	$(PY) -m pip install $(PIP_FLAGS) -e ".[test,docs,onnx,release]"
	touch $@

compare: install
	$(PY) -m skae.compare

# The fast suite; `make test-quality` runs the slower quality tests (CI runs both).
test: install
	$(PY) -m pytest -m "not quality"

test-quality: install
	$(PY) -m pytest -m quality

lint: install
	$(PY) -m ruff check .

# The API reference and gallery (docs/site/_build/html), warnings as errors.
docs: install
	OMP_NUM_THREADS=1 $(PY) -m sphinx -W --keep-going -b html -q docs/site docs/site/_build/html

# The release: an sdist and a wheel that twine's check passes, then the wheel
# alone in a fresh environment (its runtime dependencies only), run from
# outside the checkout: the README's quickstart and every estimator's example.
WHEEL_VENV ?= .venv-wheel
dist: install
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

wheel-check: dist
	rm -rf $(WHEEL_VENV)
	python3 -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install $(PIP_FLAGS) --retries 1 --extra-index-url $(TORCH_INDEX) dist/skae-*.whl
	cd "$$(mktemp -d)" && $(CURDIR)/$(WHEEL_VENV)/bin/python $(CURDIR)/.ci/check_wheel.py
