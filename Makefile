# fundarb: `make run` (demo on the built-in simulator) and `make test` (the whole suite) do all set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test install env lint format key bench reliability clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Secrets and demo settings for local use, generated once (and completed, never changed, by later versions) so
# the web server, the workers and every restart share them.
env: install
	$(PY) -m fundarb_site.devenv .env

run: install env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py run_stack --port $(PORT)

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) .ci/pytest-matrix

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Measures the executor and the pages against the simulator on a throw-away database; writes bench/results.md.
bench: install
	$(PY) -m bench

# Runs the reliability scenarios (fault matrix with every pair of a new fault and another, real-process races and
# crashes) and rewrites RELIABILITY.md.
reliability: install
	RELIABILITY_CROSS=1 DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fundarb} $(PY) -m tests.reliability.report

key: install
	@$(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

clean:
	rm -rf var/staticfiles var/test-*.sqlite3* .pytest_cache .ruff_cache
