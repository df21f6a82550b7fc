"""Great Expectations on DuckDB: the persisted-connection fix still works, and the file lock is released.

GX 1.x returns empty results on DuckDB without the fix (docs/stack_notes.md §7) and the fix touches a private name, so
this test must fail loudly when an upgrade moves the name or changes the behaviour.
"""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("create table raw.t as select i as id, i * 10 as amount, case when i % 5 = 0 then null "
                "else 'x' end as code from range(1, 11) as r(i)")
    con.close()
    return path


def _writer_can_open(path) -> bool:
    """A read-write connection from another process, as dbt or the loader would open it."""
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True).returncode == 0


def test_private_name_the_patch_relies_on_is_still_there():
    import great_expectations as gx
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    from orchestration.quality.gx_duckdb import GX_VERSION, apply_duckdb_patch

    assert gx.__version__ == GX_VERSION
    apply_duckdb_patch()
    assert any(str(getattr(d, "value", d)) == "duckdb" for d in see._PERSISTED_CONNECTION_DIALECTS)


def test_one_expectation_passes_one_fails_with_the_right_count_and_the_lock_is_released(tiny):
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from orchestration.quality.gx_duckdb import new_context, open_warehouse

    context = new_context()
    with open_warehouse(context, tiny) as ds:
        batch = ds.add_table_asset("t", table_name="t", schema_name="raw").add_batch_definition_whole_table(
            "all").get_batch()
        suite = gx.ExpectationSuite(name="regression", expectations=[
            gxe.ExpectColumnValuesToNotBeNull(column="id"),
            gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=80),
            gxe.UnexpectedRowsExpectation(unexpected_rows_query="select id from {batch} where code is null"),
        ])
        res = batch.validate(suite, result_format="SUMMARY")
        # While GX holds the file, a writer in another process is refused: the lock below is really released.
        assert not _writer_can_open(tiny)
    not_null, between, rows = res.results
    assert not_null.success and not_null.result["unexpected_count"] == 0
    assert not between.success and between.result["unexpected_count"] == 2  # 90 and 100
    assert not rows.success and rows.result["observed_value"] == 2  # ids 5 and 10
    assert _writer_can_open(tiny)
    duckdb.connect(str(tiny)).close()  # and in this process too
