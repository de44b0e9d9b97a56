# newsdesk: `make run` ingests seeds/ and prints a report; `make test` runs the test suite.
# Both set up .venv first, from pyproject.toml pinned by constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean lock

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,scale]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/newsdesk ingest
	$(BIN)/newsdesk report who_said_what

# Lint, format, types and declared dependencies first (seconds), then the tests (minutes).
# A test file runs whole on one worker (--dist loadfile): its module fixtures start once.
test: lint
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/deptry .

# Re-pin every dependency after changing pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -vi '^newsdesk' > constraints.txt

clean:
	rm -rf $(VENV) .prefect warehouse/catalog.sqlite* warehouse/lake
