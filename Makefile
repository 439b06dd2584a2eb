# Sổ tay — `make run` starts the suite, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
S      ?= members

.PHONY: chromium run run-service new-service deploy-files test test-unit lint lint-imports bench bench-national soak \
	import clean help

help:
	@echo "make run                 start every service of services/registry.yaml (demo data on first run)"
	@echo "    REPLICAS=N           N processes of every service (REPLICAS_<NAME>=N for one; PostgreSQL only)"
	@echo "make run-service S=name  prepare and start one service alone"
	@echo "make new-service S=name  a new, empty, registered, tested and deployable service [OWNS='what it owns']"
	@echo "make deploy-files        rewrite deploy/ files from services/registry.yaml (python -m deploy.generate)"
	@echo "make test                the whole suite (unit, integration, end-to-end, import boundaries)"
	@echo "make test-unit           the unit tier alone, in seconds; needs no broker (none is reachable to it)"
	@echo "make lint                ruff: the linter's rules and the formatter's style (pyproject.toml)"
	@echo "make bench               benchmarks at this machine's scale (bench/README.md), under 15 minutes"
	@echo "make bench-national      the national data sets (5.6 M members, 10 M read receipts, every branch's meeting),"
	@echo "                         an hour or more; fills kept in var/bench-keep and reused (BENCH_KEEP= to throw away)"
	@echo "make soak                a mixed load for 30 minutes: zero errors, flat memory (SOAK_MINUTES, SOAK_RATE)"
	@echo "make import FILE=…       import a Party member export (CSV/XLSX) with a progress bar"

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(VENV)/.runtime
	@$(PY) -m shared.devrun

run-service: $(VENV)/.runtime
	@$(PY) -m shared.cli prepare $(S)
	@$(PY) -m shared.serve $(S)

new-service: $(VENV)/.runtime
	@test "$(origin S)" = "command line" || { echo "usage: make new-service S=<name> [OWNS='what it owns']"; exit 2; }
	@$(PY) -m shared.cli new-service $(S) "$(OWNS)"

deploy-files: $(VENV)/.runtime
	@$(PY) -m deploy.generate

lint: $(VENV)/.dev
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

lint-imports: $(VENV)/.dev
	@$(VENV)/bin/lint-imports --no-cache

# the portal's browser tests drive Debian's Chromium: Playwright's own browser download is not reachable
chromium:
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null \
	  && { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "make: no Chromium and no apt: the portal's browser tests will be skipped"; }

test: lint chromium
	@$(PY) -m tests.support.broker
	@$(VENV)/bin/lint-imports --no-cache
	@$(PY) -m pytest $(PYTEST_ARGS)

# pointed at a port nothing listens on: a unit test that reaches for a broker fails even when one runs
test-unit: $(VENV)/.dev
	@AMQP_URI=amqp://guest:guest@127.0.0.1:1/ RABBIT_API_URI=http://127.0.0.1:1/api $(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench: $(VENV)/.dev
	@$(PY) -m tests.support.broker
	@$(PY) -m bench.all

# the national data sets, on their own (issue 14): a fill is kept and reused by the next run with the same fill
BENCH_KEEP ?= var/bench-keep
bench-national: $(VENV)/.dev
	@BENCH_KEEP=$(BENCH_KEEP) BENCH_MEMBERS=5600000 BENCH_READS=10000000 BENCH_DOCUMENTS=20000 $(PY) -m bench.content
	@BENCH_MEETING_BRANCHES=national BENCH_MEETINGS_PARTS=scheduling $(PY) -m bench.meetings
	@BENCH_MEMBERS=5600000 $(PY) -m bench.national

soak: $(VENV)/.dev
	@$(PY) -m tests.support.broker
	@$(PY) -m bench.soak

import: $(VENV)/.runtime
	@test -n "$(FILE)" || { echo "usage: make import FILE=members.csv [DRY_RUN=1]"; exit 2; }
	@$(PY) -m shared.cli prepare members >/dev/null
	@$(PY) -m services.members.importing "$(FILE)" $(if $(DRY_RUN),--dry-run,)

clean:
	rm -rf var .pytest_cache
