# One entry point per task; CI calls the same targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install setup test lint demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The app alone (what `make demo` needs); `setup` adds the test and lint tools.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .

setup: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"

demo: install
	$(BIN)/usageledger demo

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/bench_sync.py
	$(BIN)/python bench/bench_web.py
	$(BIN)/python bench/bench_login.py
	$(BIN)/python bench/bench_cli.py
	$(BIN)/python bench/bench_overview.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
