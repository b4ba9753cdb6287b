# Each target bootstraps .venv itself when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: generate check lint style test bench programs clean demo demo-stop

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,reference]'
	touch $(STAMP)

# Every spec set: the bundled one, then each examples/<name>/ (specs/ compiled into its own generated/).
EXAMPLES := $(patsubst %/specs,%,$(wildcard examples/*/specs))

generate: $(STAMP)
	$(BIN)/monspec generate
	for ex in $(EXAMPLES); do $(BIN)/monspec generate --specs $$ex/specs --out $$ex/generated || exit 1; done

check: $(STAMP)
	$(BIN)/monspec check
	for ex in $(EXAMPLES); do $(BIN)/monspec check --specs $$ex/specs --out $$ex/generated || exit 1; done

lint: $(STAMP)
	$(BIN)/monspec lint
	for ex in $(EXAMPLES); do $(BIN)/monspec lint --specs $$ex/specs || exit 1; done

style: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

programs:
	./scripts/install-programs.sh

# Bytecode compiled first: with PYTHONDONTWRITEBYTECODE set, each `monspec` process the suite starts
# would compile the package from source again (0.4 s of every run). The live tests run beside the
# rest (scripts/test.sh).
test: $(STAMP) programs
	$(BIN)/python -m compileall -q src >/dev/null
	./scripts/test.sh $(BIN)/python

bench: $(STAMP) programs
	$(BIN)/python -m benchmarks

# The bundled specs live on free loopback ports; all state in DEMO_DIR (default: a folder under $TMPDIR).
DEMO_DIR ?=
DEMO_WORKDIR := $(if $(DEMO_DIR),--workdir $(DEMO_DIR),)

demo: $(STAMP) programs
	$(BIN)/monspec demo start $(DEMO_WORKDIR)

demo-stop: $(STAMP)
	$(BIN)/monspec demo stop $(DEMO_WORKDIR)

clean:
	rm -rf $(VENV) .pytest_cache
