"""The suites as Dagster asset checks: one per suite, all blocking (so the run's results step comes after them),
and a failed check stops what is downstream while its results wait in the spool for the failure path."""

# ruff: noqa: S608 - the SQL breaks a private test copy with constants of this module

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.
import logging

import dagster as dg
import duckdb
import pytest

from tests.quality.conftest import MONTH, break_with

pytestmark = pytest.mark.slow


def test_every_suite_is_a_blocking_check():
    from orchestration.defs.quality_checks import quality_checks
    from orchestration.quality.suites import suite_catalog

    specs = {spec.name: spec for c in quality_checks for spec in c.check_specs}
    assert set(specs) == {f"dq_{name}" for name, _, _ in suite_catalog()}
    for name, _kind, key in suite_catalog():
        spec = specs[f"dq_{name}"]
        assert spec.asset_key == dg.AssetKey(list(key))
        assert spec.blocking, name
    assert {kind for _, kind, _ in suite_catalog()} == {"raw", "plan"}  # the marts are tested by dbt


def test_the_checks_are_in_the_job():
    from orchestration.definitions import defs

    job = defs.resolve_job_def("piramide_job")
    names = {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
    assert {"dq_raw_practices", "dq_plan_ieep_items"} <= names
    assert not any(n.startswith("dq_mart_") for n in names)


def test_a_failed_blocking_raw_check_stops_the_downstream_assets(sample_copy):
    from orchestration.defs.automation import RANGE_END, RANGE_START
    from orchestration.defs.quality_checks import persist_finished_runs, quality_checks
    from orchestration.quality import dq_dir

    break_with(sample_copy.warehouse,
               f"update raw.practices set product_code = 'NOT_A_PRODUCT' where delivery_month = date '{MONTH}-01' "
               "and _row < 4")

    # Stand-ins for the load and for dbt: the check under test is the real one, on the real warehouse.
    @dg.asset(key=["raw", "practices"])
    def practices_loaded() -> None:
        return None

    ran = []

    @dg.asset(deps=[dg.AssetKey(["raw", "practices"])])
    def staging_practices() -> None:
        ran.append(True)

    check = next(c for c in quality_checks if any(s.name == "dq_raw_practices" for s in c.check_specs))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([practices_loaded, staging_practices, check], raise_on_error=False, instance=instance,
                            tags={RANGE_START: MONTH, RANGE_END: MONTH})

    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 1
    ev = evaluations[0]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR
    assert ev.metadata["errors"].value == 1
    assert not ran, "the downstream asset ran after a failed blocking check"
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["staging_practices"]) not in materialized

    # The check's results are spooled; once the run has finished, the sensor's work persists them as they are
    # (nothing validated again) and writes the run's summary page.
    spooled = dq_dir(sample_copy.warehouse) / "runs" / result.run_id / "raw_practices.json"
    assert spooled.exists()
    lines = persist_finished_runs(instance, logging.getLogger(__name__))
    assert len(lines) == 1 and "1 failed" in lines[0], lines
    assert not spooled.exists()
    assert persist_finished_runs(instance, logging.getLogger(__name__)) == []  # never twice
    con = duckdb.connect(str(sample_copy.warehouse), read_only=True)
    try:
        rows = con.execute("select suite, expectation, partition from audit.dq_results "
                           "where run_id = ? and not success and severity = 'error'", [result.run_id]).fetchall()
    finally:
        con.close()
    assert rows == [("raw_practices", "code_domain.product_code", MONTH)]
    page = (dq_dir(sample_copy.warehouse) / f"dq_summary_{result.run_id}.html").read_text()
    assert "Not run in this run" in page and "plan_ieep_items" in page
