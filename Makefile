# Cocarde: `make run` to try it, `make test` to test it. `make help` lists everything.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help run serve install install-dev test lint format typecheck migrations-check messages lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed ## Create .venv with the runtime requirements

install-dev: $(VENV)/.installed-dev ## Create .venv with the test and lint requirements

run: install ## Install, migrate, load the demo and serve http://127.0.0.1:8000 (embedded mode)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

serve: ## Serve without reinstalling or reloading the demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install-dev ## Install dev requirements and run the whole suite (DATABASE_URL/REDIS_URL when set)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: install-dev ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install-dev ## mypy over the service layers
	$(BIN)/mypy

# Each app owns its catalogue (<app>/locale), so branches never conflict on one big file.
APPS_WITH_CATALOGUES := cocarde sites themes crm messaging donations territory territory/intelligence canvassing

messages: install-dev ## Extract and compile every app's French and English catalogue (needs gettext)
	for app in $(APPS_WITH_CATALOGUES); do \
		nested=""; [ "$$app" = territory ] && nested="--ignore=intelligence"; \
		(cd $$app && $(CURDIR)/$(BIN)/python $(CURDIR)/manage.py makemessages -l fr -l en --no-obsolete -v0 --ignore=static $$nested) || exit 1; \
	done
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0

lock: install-dev ## Re-pin requirements*.txt from requirements*.in
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-header --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-header --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean: ## Remove the virtualenv, local database and generated files
	rm -rf $(VENV) var cocarde.sqlite3 .pytest_cache .ruff_cache .mypy_cache
