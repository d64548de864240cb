# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Python's bytecode cache lives in the venv, never beside the sources. Where the environment sets
# PYTHONDONTWRITEBYTECODE (this machine kind does), nothing was cached and every process compiled
# jax, numpyro, xarray, ... from source again: 12 s per import instead of 5 (measured), paid by each
# test worker, notebook kernel and subprocess
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache
unexport PYTHONDONTWRITEBYTECODE
# Python 3.12: on PATH, else the pyenv build this machine kind ships.
PYTHON312 ?= $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' 2>/dev/null && echo python3.12 || ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1)

.PHONY: run test studies lint bench notebooks gpu-prep clean

$(VENV)/.installed: pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  if [ -z "$(PYTHON312)" ]; then echo "error: Python 3.12 not found (install python3.12 or pyenv 3.12)"; exit 1; fi; \
	  $(PYTHON312) -m venv $(VENV); fi
	@# uv (a pip-compatible installer, from PyPI) resolves and installs the same packages as pip, in
	@# parallel: 6 s against pip's 48 s on a fresh machine (measured); pip is the fallback
	( $(PY) -m pip install -q uv && $(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]' ) \
	  || ( $(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e '.[dev]' )
	@touch $@

run: $(VENV)/.installed
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH nnft run --force

test: $(VENV)/.installed
	$(VENV)/bin/ruff check nnft_ppl tests benchmarks
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -n 2 --dist loadscope --no-loadscope-reorder --durations=15

# statistical studies too long for `make test` (benchmarks/studies/conftest.py says what they are)
studies: $(VENV)/.installed
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -n 2 --dist loadscope benchmarks/studies

bench: $(VENV)/.installed
	$(PY) benchmarks/ensemble.py

# what benchmarks/gpu.py needs on the device machine and its image lacks (its docstring has the command):
# arviz-stats' wheel (pure Python, the version installed here) in .whl/, the reference script in .bench/
gpu-prep: $(VENV)/.installed
	mkdir -p .whl .bench
	cp ../shared/bench/reference_vmap.py .bench/
	$(PY) -m pip download -q --no-deps --only-binary=:all: -d .whl \
	  "arviz-stats==$$($(PY) -c 'import importlib.metadata as m; print(m.version("arviz-stats"))')"

notebooks: $(VENV)/.installed
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) notebooks/execute.py

clean:
	rm -rf $(VENV) report
