# One entry point per task; CI calls the same targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install setup test lint demo bench clean focus-validator

# The FinOps FOCUS validator in a venv of its own: it needs Python >= 3.12 (pyenv's), the project runs on 3.11.
FOCUS_VENV   ?= .venv-focus
FOCUS_PYTHON ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)/versions/3.12*/bin/python3.12) python3.12)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The app alone (what `make demo` needs); `setup` adds the test and lint tools.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .

setup: $(BIN)/python focus-validator
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"

# Idempotent: rebuilt only when its constraints change (tests/focus finds it at $(FOCUS_VENV)).
focus-validator: $(FOCUS_VENV)/bin/focus-validator

$(FOCUS_VENV)/bin/focus-validator: constraints-focus.txt
	rm -rf $(FOCUS_VENV)
	$(FOCUS_PYTHON) -m venv $(FOCUS_VENV)
	$(FOCUS_VENV)/bin/python -m pip install --quiet -c constraints-focus.txt focus-validator
	touch $@

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
	$(BIN)/python bench/bench_writer.py
	$(BIN)/python bench/bench_hourly_replace.py
	$(BIN)/python bench/bench_web.py
	$(BIN)/python bench/bench_login.py
	$(BIN)/python bench/bench_cli.py
	$(BIN)/python bench/bench_overview.py
	$(BIN)/python bench/bench_anomalies.py
	$(BIN)/python bench/bench_focus.py

clean:
	rm -rf $(VENV) $(FOCUS_VENV) .pytest_cache .ruff_cache test-artifacts
