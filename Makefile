# Two commands set everything up from a clean clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: demo test test-numba test-slow test-oracle lint format venv clean bench bench-quick docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m mlpzero demo --out $(OUT)

# The suite on each backend: NumPy alone (the reference, and what runs without numba;
# the kernel tests compare both backends here), then numba, the default.
test: $(STAMP)
	MLPZERO_BACKEND=numpy $(BIN)/python -m pytest -m "not slow" -q
	MLPZERO_BACKEND=numba $(BIN)/python -m pytest -m "not slow" -q

test-numba: $(STAMP)
	MLPZERO_BACKEND=numba $(BIN)/python -m pytest -m "not slow" -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

# The `pytorch` extra beside `dev`: the tests that compare losses, optimizers and schedules
# with PyTorch's own run instead of being skipped. Then the suite as `make test` runs it.
ORACLE_STAMP := $(VENV)/.pytorch-installed

$(ORACLE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,pytorch]'
	touch $(ORACLE_STAMP)

test-oracle: $(ORACLE_STAMP)
	$(MAKE) test

# Benchmarks against scikit-learn and PyTorch (the `bench` extra). OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE, set on some machines for old OpenBLAS builds, slow a current NumPy: they
# are unset for this command alone (never for tests). BENCH_ARGS passes options, e.g.
# `make bench BENCH_ARGS="-w 2 -r 3"`.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP) $(ORACLE_STAMP)

bench: $(BENCH_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.run --quick \
		--json $(OUT)/bench-quick.json

# The documentation site, into site/ (open site/index.html, or `mkdocs serve`). --strict
# fails on any warning: a broken link, an unknown reference, a docstring it cannot parse.
# The notebooks run while it builds, so their pages show today's outputs.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# ruff, then the layer contract of pyproject.toml ([tool.importlinter]): each floor of the
# package imports only from the floors below it, and no modules import one another.
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	PYTHONPATH=src $(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) $(OUT) build site src/*.egg-info .pytest_cache
