# The two promises of the README: `make run` and `make test` work on a fresh machine.
#
# Settings (make VAR=value): PY (the Python that makes the venv, default python3),
# HOST and PORT (where `make run` serves), BENCH_ARGS (extra `wenzheng bench` options),
# BENCH_OUT and REDIS_URL (`make bench-all`).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
TOOLS := $(VENV)/.tools
# setuptools warns that an editable install is editable; the warning reads like an error.
QUIET := PYTHONWARNINGS=ignore

.PHONY: run test check lint typecheck wheel-smoke bench bench-all clean

# Serving needs only the runtime dependencies.
$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(QUIET) $(BIN)/pip install --quiet --upgrade pip
	$(QUIET) $(BIN)/pip install --quiet -e .
	touch $@

# The test and lint tool chain, for `make test` and the benchmarks.
$(TOOLS): $(RUNTIME)
	$(QUIET) $(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Migrates the embedded SQLite database, loads the demo meeting, prints every screen's
# address and serves on http://127.0.0.1:8000 (HOST=0.0.0.0 to let phones on the LAN in).
HOST ?= 127.0.0.1
PORT ?= 8000
run: $(RUNTIME)
	$(BIN)/wenzheng serve --demo --host $(HOST) --port $(PORT)

lint: $(TOOLS)
	$(BIN)/ruff check live server screens tests
	$(BIN)/ruff format --check live server screens tests

typecheck: $(TOOLS)
	$(BIN)/mypy

test: $(TOOLS)
	bash scripts/ensure-test-deps.sh
	$(MAKE) lint typecheck
	$(BIN)/pytest -q --durations=25

# The wheel, installed into a clean virtual environment and run from another folder
# (tests/test_wheel.py runs this in `make test`).
wheel-smoke: $(TOOLS)
	$(BIN)/pytest -q tests/test_wheel.py

# The standard scenario of issue 3 (BENCHMARKS.md): 3000 phones, one server process,
# SQLite, check-ins offered within 10 s, ratings within 5 s. Not part of `make test`.
BENCH_ARGS ?=
bench: $(TOOLS)
	$(BIN)/wenzheng bench --deputies 3000 $(BENCH_ARGS)

# The three scenarios of issue 3, one after the other, each writing its JSON file to
# bench-results/: the standard one; 2 workers with Redis and 6000 phones; the rating
# burst on a fresh PostgreSQL database with 2 workers. Starts Redis and PostgreSQL first.
BENCH_OUT ?= bench-results
REDIS_URL ?= redis://127.0.0.1:6379/0
bench-all: $(TOOLS)
	bash scripts/ensure-test-deps.sh
	mkdir -p $(BENCH_OUT)
	status=0; \
	$(BIN)/wenzheng bench --deputies 3000 --json $(BENCH_OUT)/single-sqlite-3000.json || status=1; \
	$(BIN)/wenzheng bench --deputies 6000 --workers 2 --redis-url $(REDIS_URL) \
	  --json $(BENCH_OUT)/redis-2workers-6000.json || status=1; \
	$(BIN)/wenzheng bench --deputies 3000 --workers 2 --redis-url $(REDIS_URL) --postgres \
	  --json $(BENCH_OUT)/postgres-2workers-3000.json || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
