# The README quotes these targets; CI runs `make test` (via .ci/run) on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := uv==0.13.9

.PHONY: setup run test test-fast lint bench dev clean

setup: $(VENV)/.installed dbt_project/target/manifest.json

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(UV)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]'
	touch $@

# Dagster reads the dbt manifest; it is built here, once, not parsed on every load (STACK_NOTES D4).
dbt_project/target/manifest.json: $(VENV)/.installed $(shell find dbt_project/models dbt_project/macros dbt_project/tests seeds -type f 2>/dev/null) dbt_project/dbt_project.yml
	$(BIN)/piramide parse
	touch $@

run: setup
	$(BIN)/piramide run

test: setup
	$(BIN)/pytest -q -ra

test-fast: setup
	$(BIN)/pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check orchestration tests bench
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros

bench: setup
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

# The instance settings (one writer at a time: the run queue) go to DAGSTER_HOME unless it has its own.
dev: setup
	home=$${DAGSTER_HOME:-$(CURDIR)/warehouse/dagster_home}; mkdir -p "$$home"; \
	[ -f "$$home/dagster.yaml" ] || cp orchestration/defs/dagster.yaml "$$home/dagster.yaml"; \
	DAGSTER_HOME="$$home" $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

clean:
	rm -rf warehouse data dbt_project/target dbt_project/logs
