# `make compare` runs the main job, `make test` the tests; both set up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_FLAGS := -q --find-links /opt/wheels -c constraints.txt

.PHONY: compare test lint install
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -e ".[test]"
	touch $@

compare: install
	$(PY) -m skae.compare

test: install
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
