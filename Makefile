# Two commands on a fresh machine:
#   make run   install, migrate, load the question bank, collect static files, serve on :8000
#   make test  install with the test extra, lint, run every test
# Everything lives in .venv; targets re-install only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?=        # gunicorn workers; empty: 2 x cores + 1 (gunicorn.conf.py)
PYTEST_ARGS ?=

.PHONY: run dev serve test test-pg lint bench bench-engine bench-exam bench-web bench-db bench-faults install install-test migrate bank static env clean help browser-deps screenshot verify-bank

help:
	@echo "make run | make dev | make test | make test-pg | make bench | make lint | make clean"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

# torch is pinned (torch==2.13.0) in pyproject.toml: the CPU wheel, never the CUDA download.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# A local .env with a random SECRET_KEY, made once. Plain HTTP on loopback, so the
# secure-cookie and HSTS defaults of production are relaxed here (and only here).
.env:
	@$(PYTHON) -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(50))" > $@
	@printf 'SESSION_COOKIE_SECURE=0\nCSRF_COOKIE_SECURE=0\nSECURE_HSTS_SECONDS=0\n' >> $@
	@echo "wrote .env (local settings; edit or delete it freely)"

env: .env

migrate: install .env
	$(BIN)/python manage.py migrate --noinput

bank: migrate
	$(BIN)/python manage.py load_bank

static: install .env
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# Production-grade serving: gunicorn + WhiteNoise over the embedded SQLite database.
# gunicorn.conf.py preloads the app and the engine (torch) once, before forking workers.
# Beside it: close_attempts closes quizzes nobody submitted once their time and grace are up,
# and db_worker runs the background tasks (variant pools, FSRS fits).
run: bank static
	$(BIN)/python manage.py close_attempts --every 30 & closer=$$!; \
	$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$closer $$worker 2>/dev/null' EXIT INT TERM; \
	HOST=$(HOST) PORT=$(PORT) $(if $(WORKERS),WEB_CONCURRENCY=$(WORKERS)) $(BIN)/gunicorn -c gunicorn.conf.py

dev: bank
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install-test
	$(BIN)/ruff check .

# Browser tests drive Debian's Chromium; CJK fonts make Chinese pages render properly.
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ ! -x $(CHROMIUM) ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
		echo "installing chromium and fonts-noto-cjk (Debian packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
		|| echo "could not install chromium: browser tests will be skipped"; \
	fi

# Exit code 5 (no tests collected) is not a failure of the suite itself.
test: install-test browser-deps lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m engine verify --variants 200
	$(MAKE) --no-print-directory verify-bank

# The real bank, loaded into a throw-away SQLite database and recomputed by the engine
# (canonical examples, seeded variants and every source claim).
verify-bank: install-test
	@db=$$(mktemp -d)/bank.sqlite3; \
	export DATABASE_URL=sqlite:///$$db ENV_FILE=/dev/null; \
	$(BIN)/python manage.py migrate --noinput -v0 && \
	$(BIN)/python manage.py load_bank && \
	$(BIN)/python manage.py verify_bank --variants 3; status=$$?; rm -f $$db; exit $$status

# The same suite on PostgreSQL with Redis as the cache (the servers CI provides). A Redis that
# is not running is started when redis-server is installed; if none answers, the tests say so
# and use the in-memory cache (tests/conftest.py).
test-pg: install-test browser-deps
	@redis-cli -p 6379 ping >/dev/null 2>&1 || ! command -v redis-server >/dev/null || \
	  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null || true
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Exam load: 500 quiz takers start and autosave against gunicorn over PostgreSQL + Redis.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/studyapp_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/3
# The benchmark database: created if missing, migrated, bank loaded.
bench-db:
	mkdir -p .bench
	$(BIN)/python -c "import psycopg; c = psycopg.connect('$(BENCH_DATABASE_URL)'.rsplit('/', 1)[0] + '/postgres', autocommit=True); \
	  c.execute(\"select 1 from pg_database where datname = 'studyapp_bench'\").fetchone() or c.execute('create database studyapp_bench')"
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python manage.py load_bank

bench-exam: install-test bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python manage.py bench_exam \
	  --users 500 --interval 5 --ramp 30 --duration 60 --json .bench/exam.json

# The exam load while a worker is killed, PostgreSQL restarted and Redis stopped (restarts them).
bench-faults: install-test bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python manage.py bench_exam \
	  --users 250 --interval 5 --ramp 30 --duration 60 --faults --json .bench/faults.json

bench-web: install-test bench-db
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python manage.py bench_web \
	  --clients 50 --seconds 15 --json .bench/web.json

# Every benchmark but the faults (which restart PostgreSQL and Redis): results under .bench/,
# written up in docs/benchmarks.md.
bench: bench-engine bench-web bench-exam

bench-engine: install-test
	mkdir -p .bench
	$(BIN)/python -m engine bench --markdown | tee .bench/engine.md
	/usr/bin/time -v $(BIN)/python -m engine verify --variants 1000 2>&1 | tee .bench/verify.txt

# The README's screenshot of a card page (served by a throw-away server on the test data).
screenshot: install-test browser-deps
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser -q -k screenshot -p no:xdist

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis .bench
