# The two promises of the README: `make run` and `make test` work on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint typecheck bench smoke clean

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

bench: $(STAMP)
	$(BIN)/wenzheng bench --deputies 500

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
