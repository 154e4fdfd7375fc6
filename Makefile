# chatops-bot: `make run` sets up and runs the bot; `make test` sets up and runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[demo,dev]'
	$(BIN)/python -m compileall -q bot handlers runbooks demo  # as pip does for a wheel: start-up reads bytecode
	touch $(STAMP)

## run: install into .venv, then serve (embedded Redis unless REDIS_URL is set; secrets from env or .env);
## without SLACK_BOT_TOKEN, the local shell (the real bot, Slack played in the terminal)
run: $(STAMP)
	@$(BIN)/python -m compileall -q bot handlers runbooks demo
	$(BIN)/chatops-bot run

## test: install, then lint, type-check, import contracts and the full test suite (three workers, one file each:
## the tests mostly wait on the servers they start, so this is about twice as fast on two cores)
test: $(STAMP) lint typecheck
	$(BIN)/pytest -q -n 3 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	@$(BIN)/python -m compileall -q bot handlers runbooks demo  # whole processes read bytecode, as after make run
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.escalation
	$(BIN)/python -m bench.digest
	$(BIN)/python -m bench.health
	$(BIN)/python -m bench.changes
	$(BIN)/python -m bench.security
	$(BIN)/python -m bench.alerts
	$(BIN)/python -m bench.paging
	$(BIN)/python -m bench.shell

clean:
	rm -rf $(VENV) .chatops .pytest_cache .mypy_cache .ruff_cache
