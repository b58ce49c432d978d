# gxcrawl — `make demo` and `make test` work on a fresh clone: both install first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORTAL ?= demo
PORT   ?= 8391
DB     ?= $(or $(GXCRAWL_DATABASE_URL),data/gxcrawl.db)
EXPLORE_PORT ?= 8001

.PHONY: install demo test lint format migrate serve-fixtures bench bench-workers explore fuzz clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

install: $(STAMP)  ## create .venv and install gxcrawl (editable) with dev extras

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install  ## crawl the bundled fixture portal into data/gxcrawl.db and print a summary
	$(BIN)/python -m gxcrawl.testing.demo

test: install lint  ## lint, then run the whole test suite (offline; PostgreSQL tests skip if absent)
	$(BIN)/python -m pytest -q

lint: install  ## ruff (lint + format check), mypy and vulture (dead code)
	$(BIN)/ruff check gxcrawl benchmarks tests migrations fixtures setup.py
	$(BIN)/ruff format --check gxcrawl benchmarks tests migrations fixtures setup.py
	$(BIN)/mypy
	$(BIN)/vulture gxcrawl --min-confidence 80

format: install  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix gxcrawl benchmarks tests migrations fixtures
	$(BIN)/ruff format gxcrawl benchmarks tests migrations fixtures

migrate: install  ## upgrade the database (GXCRAWL_DATABASE_URL, default data/gxcrawl.db) to head
	$(BIN)/alembic upgrade head

serve-fixtures: install  ## serve fixtures/portals/$(PORTAL) on 127.0.0.1:$(PORT) in the foreground
	$(BIN)/python -m gxcrawl.testing.fixtureserver fixtures/portals/$(PORTAL) --port $(PORT)

bench: install  ## benchmarks: bare vs full vs recrawl, RSS 1k→20k pages, extraction vs trafilatura, ms by stage; two workers vs one
	$(BIN)/python -m pip install --quiet -e '.[bench]'  # trafilatura: bench-only, never at run time
	$(BIN)/python -m benchmarks.bench
	$(BIN)/python -m benchmarks.workers

explore: install  ## serve the store (DB=path, default data/gxcrawl.db) in Datasette on 127.0.0.1:$(EXPLORE_PORT)
	$(BIN)/python -m gxcrawl.explore --db $(DB) --port $(EXPLORE_PORT)

fuzz: install  ## fuzz extraction: 100,000 generated/mutated pages; crashes, hangs, worst time
	$(BIN)/python benchmarks/fuzz.py --count $(or $(FUZZ_COUNT),100000)

bench-workers: install  ## scale-out bench: N workers sharing Redis + PostgreSQL vs one (needs both)
	$(BIN)/python -m benchmarks.workers

clean:  ## remove the virtualenv, caches and the demo database
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache *.egg-info
