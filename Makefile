# `make run` and `make test` work on a fresh machine with Python 3.11+ and make:
# they create .venv, install Partsbot with its dev extras (only when pyproject.toml changed), and run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install node-tools run chat serve demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Partsbot needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Node is only needed by tests that validate the Teams manifest and Adaptive Cards with Microsoft's own
# npm packages; without npm those tests skip and say why.
NODE_STAMP := tools/node/node_modules/.installed

$(NODE_STAMP): tools/node/package.json tools/node/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tools/node --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else echo "npm not found: Teams schema and Adaptive Card tests will be skipped"; fi

node-tools: $(NODE_STAMP)

run: install
	$(BIN)/partsbot run

chat: install
	$(BIN)/partsbot chat

serve: install
	$(BIN)/partsbot serve

demo: install
	$(BIN)/partsbot demo

test: install node-tools
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check bot handlers tests
	$(BIN)/ruff format --check bot handlers tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench: install
	$(BIN)/python bench/bench_events.py
