# One command per job; CI calls `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint bench bench-quick clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# The matching engine's hot path compiled with mypyc (newsradar.native): rebuilt when a source
# changes, skipped in a second when none did, and pure Python where no C compiler is found.
NATIVE := $(VENV)/.native
$(NATIVE): $(STAMP) $(shell find src/newsradar -name '*.py')
	$(BIN)/python -m newsradar.native
	@touch $@

install: $(NATIVE)

run: $(NATIVE)
	$(BIN)/newsradar run --config config

demo: $(NATIVE)
	$(BIN)/python -m newsradar.demo

lint: $(STAMP)
	$(BIN)/ruff format --check src tests flows bench
	$(BIN)/ruff check src tests flows bench
	$(BIN)/mypy

# The suite runs on the compiled hot path when there is one; the matching tests then run once
# more on the pure-Python modules it stands for.
test: lint $(NATIVE)
	$(BIN)/pytest -q
	NEWSRADAR_PURE_PYTHON=1 $(BIN)/pytest -q -p no:cacheprovider tests/test_match.py \
		tests/test_normalize.py tests/test_query.py tests/test_scanner.py tests/cli/test_match.py

bench: $(NATIVE)
	$(BIN)/python -m bench

bench-quick: $(NATIVE)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data/demo
