# `make run` and `make test` work on a fresh machine with Python 3.11+ and make:
# they create .venv, install Partsbot with its dev extras (only when pyproject.toml changed), and run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install node-tools run chat serve demo test lint mutate bench clean

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

# Mutation testing of the modules that carry promises ([tool.mutmut] in pyproject.toml); a few minutes.
# Prints every surviving mutant; README.md "Mutation testing" explains each one.
MUTANTS := \
  'bot.toolbox.voting.x_lock__*' 'bot.toolbox.voting.x_set_ballot__*' 'bot.toolbox.voting.x_set_dots__*' \
  'bot.toolbox.voting.x_close__*' 'bot.toolbox.voting.x_results__*' 'bot.toolbox.voting.x_winners__*' \
  'bot.toolbox.voting.x_voter_count__*' 'bot.toolbox.voting.x_dots_of__*' 'bot.toolbox.voting.x_check_settings__*' \
  'bot.toolbox.voting.x_parse_numbers__*' 'bot.toolbox.voting.x_ballot_from_numbers__*' \
  'bot.toolbox.blindspot.x_ask_anonymous__*' 'bot.toolbox.blindspot.x_add_to_pool__*' \
  'bot.toolbox.blindspot.x__rewrite_pool__*' 'bot.toolbox.blindspot.x_release__*' \
  'bot.toolbox.blindspot.x_distinct_askers__*' 'bot.toolbox.blindspot.x_pending_count__*' \
  'bot.toolbox.blindspot.x_digest__*' 'bot.toolbox.blindspot.x__asker_key__*' 'bot.toolbox.blindspot.x_asker_hash__*' \
  'bot.toolbox.blindspot.x_batch_size__*' 'bot.toolbox.blindspot.x_discard_pool__*' \
  'bot.course.survey.*' 'bot.toolbox.access.*' \
  'bot.course.nudges.x__make__*' 'bot.course.nudges.x_due_jobs__*' 'bot.course.nudges.x_cancel_pending__*' \
  'bot.course.scheduler.x_send_job__*'

mutate: install
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants

# End to end against anchors measured in the same run (bench/bench_serve.py), then the in-process event
# costs (bench/bench_events.py). A few minutes on 2 cores.
bench: install
	$(BIN)/python bench/bench_serve.py
	$(BIN)/python bench/bench_events.py -n 200
