# The two promises of the README: `make run` and `make test` work on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint typecheck bench bench-all smoke clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Migrates the embedded SQLite database, loads the demo meeting, prints every screen's
# address and serves on http://127.0.0.1:8000 (HOST=0.0.0.0 to let phones on the LAN in).
HOST ?= 127.0.0.1
PORT ?= 8000
run: $(STAMP)
	$(BIN)/wenzheng serve --demo --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check live server screens tests
	$(BIN)/ruff format --check live server screens tests

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP)
	bash scripts/ensure-test-deps.sh
	$(MAKE) lint typecheck
	$(BIN)/pytest -q

# The standard scenario of issue 3 (BENCHMARKS.md): 3000 phones, one server process,
# SQLite, check-ins offered within 10 s, ratings within 5 s. Not part of `make test`.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/wenzheng bench --deputies 3000 $(BENCH_ARGS)

# The three scenarios of issue 3, one after the other, each writing its JSON file to
# bench-results/: the standard one; 2 workers with Redis and 6000 phones; the rating
# burst on a fresh PostgreSQL database with 2 workers. Starts Redis and PostgreSQL first.
BENCH_OUT ?= bench-results
REDIS_URL ?= redis://127.0.0.1:6379/0
bench-all: $(STAMP)
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
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
