# The README quotes these targets; CI runs `make test` (via .ci/run) on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := uv==0.13.9

.PHONY: setup run test test-fast test-py313 docs lint bench dev clean

setup: $(VENV)/.installed dbt_project/target/manifest.json

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(UV)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]'
	touch $@

# Dagster reads the dbt manifest; it is built here, once, not parsed on every load (docs/stack_notes.md §4).
dbt_project/target/manifest.json: $(VENV)/.installed $(shell find dbt_project/models dbt_project/macros dbt_project/tests seeds -type f 2>/dev/null) dbt_project/dbt_project.yml
	$(BIN)/piramide parse
	touch $@

run: setup
	$(BIN)/piramide run

# Two workers for the two cores (the suite is mostly dbt and DuckDB subprocesses); the 15 slowest tests at the end.
test: setup
	$(BIN)/pytest -q -ra -n 2 --dist worksteal --durations=15

# The edit-test loop: no warehouse build, no Dagster run, no killed process.
test-fast: setup
	$(BIN)/pytest -q -n 2 -m "not slow and not system"

# The same pins on Python 3.13 (requires-python covers 3.11 to 3.13), in a second venv: the fast tests only
# (unit and docs), so CI stays short. PY313: the first of python3.13 on PATH or a pyenv 3.13 that runs (a pyenv
# shim exists on PATH even when it refuses to run).
PY313  ?= $(shell for p in python3.13 /root/.pyenv/versions/3.13*/bin/python; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && { command -v "$$p"; break; }; done)
VENV313 := .venv313

$(VENV313)/.installed: pyproject.toml constraints.txt
	@test -n "$(PY313)" || { echo "no Python 3.13 interpreter (set PY313=...)" >&2; exit 1; }
	$(PY313) -m venv $(VENV313)
	$(VENV313)/bin/pip install --quiet --disable-pip-version-check "$(UV)"
	$(VENV313)/bin/uv pip install --quiet --python $(VENV313)/bin/python -c constraints.txt -e '.[dev]'
	touch $@

test-py313: $(VENV313)/.installed
	$(VENV313)/bin/pytest -q -p no:cacheprovider tests/unit tests/docs

# The generated reference pages (docs/kpi_reference.md, docs/landing_contract.md).
docs: setup
	$(BIN)/piramide docs-reference

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
