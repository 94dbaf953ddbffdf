# itsm — the two commands:
#   make run    set everything up (venv, packages, database, translations, demo data) and start
#               web + Celery worker + Celery beat on the embedded defaults; Ctrl-C stops all.
#   make test   run the whole test suite (uses DATABASE_URL / CELERY_BROKER_URL when set), on
#               every core (pytest-xdist; PYTEST_WORKERS=0 runs it in one process).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE ?= itsm.settings.dev
# Test processes: one per core. Each test file runs whole in one process (its module fixtures,
# e.g. the demo data, are built once); each process has its own test database.
PYTEST_WORKERS ?= auto

.PHONY: run setup test lint messages check-translations clean bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit("itsm needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

messages: $(VENV)/.installed
	$(PY) manage.py compilemessages --ignore=.venv --verbosity=0

setup: $(VENV)/.installed
	./scripts/install-system-deps.sh runtime
	$(MAKE) --no-print-directory messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

# Ctrl-C is a normal stop (exit 0): scripts/run_dev.py lets the worker finish its warm shutdown.
run: setup
	@echo "itsm on http://127.0.0.1:$${ITSM_PORT:-8000}/  (logins in README; Ctrl-C stops web, worker and beat)"
	$(PY) scripts/run_dev.py

test: $(VENV)/.installed
	./scripts/install-system-deps.sh test
	$(MAKE) --no-print-directory messages
	DJANGO_SETTINGS_MODULE=itsm.settings.test $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/check_translations.py
	$(VENV)/bin/mypy itsm complaints surveys sla improvement kpi

bench: $(VENV)/.installed
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3
