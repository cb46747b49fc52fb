# Chợ 4.0 — everything a newcomer needs is `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test lint secrets format bench bench-quick drills drills-quick worker beat intake migrate demo clean messages clips

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# createcachetable: without REDIS_URL the cache (the sign-in throttle's counters) is a database table.
migrate: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py seed_demo

# Embedded default: SQLite in var/, Celery tasks in-process. Safe to run twice.
run: demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# lint-imports: the import contracts of pyproject.toml (docs/architecture.md); it takes
# a fraction of a second, so no cache that an edit made within the same second could fool.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# No secret in the repository: detect-secrets against the audited .secrets.baseline (docs/security.md).
secrets: $(STAMP)
	$(PY) .ci/secret_scan.py

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every benchmark beside its baseline of the same run → docs/benchmarks.md (docs/benchmarks.md says how
# to read them). bench-quick: the same set at reduced sizes, under 2 minutes, marked "Quick run". Not in CI.
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(PY) -m bench --quick $(BENCH_ARGS)

# Fault and abuse drills on services they start themselves → docs/reliability.md (docs/reliability.md says how).
drills: $(STAMP)
	$(PY) -m drills $(DRILLS_ARGS)

drills-quick: $(STAMP)
	$(PY) -m drills --quick $(DRILLS_ARGS)

worker: $(STAMP)
	$(VENV)/bin/celery -A config worker -l info

# The batching webhook intake (config.asgi) on :8001, as the compose `webhooks` service runs it.
intake: $(STAMP)
	$(VENV)/bin/gunicorn config.asgi:application --worker-class config.workers.SpreadUvicornWorker --reuse-port --bind 127.0.0.1:8001 --workers 3

beat: $(STAMP)
	$(VENV)/bin/celery -A config beat -l info

messages: $(STAMP)
	$(PY) manage.py makemessages -l vi --ignore=tests --ignore=bench --ignore=var
	cd locale && ../$(PY) ../manage.py compilemessages -l vi

# The stall page's Vietnamese word clips (static/audio/vi/, committed): needs espeak-ng and opus-tools.
clips: $(STAMP)
	$(PY) manage.py make_clips

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
