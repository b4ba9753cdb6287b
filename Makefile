# Each target bootstraps .venv itself when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: generate check lint style test bench programs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,reference]'
	touch $(STAMP)

generate: $(STAMP)
	$(BIN)/monspec generate

check: $(STAMP)
	$(BIN)/monspec check

lint: $(STAMP)
	$(BIN)/monspec lint

style: $(STAMP)
	$(BIN)/ruff check src
	$(BIN)/mypy

programs:
	./scripts/install-programs.sh

test: $(STAMP) programs
	$(BIN)/python -m pytest

bench: $(STAMP) programs
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
