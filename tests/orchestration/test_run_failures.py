"""The run-failure sensor writes one row per failed run to audit.run_failures, even through a locked file."""

from __future__ import annotations

import json
import subprocess
import sys

import dagster as dg
import duckdb

from orchestration.defs import automation
from orchestration.defs.automation import RunFailure, record_run_failure, record_run_failures


@dg.op
def extract_step():
    return 1


@dg.op
def build_step(x):
    raise RuntimeError(f"dbt build failed after {x} step: model fct_kpi_scores")


@dg.job(tags={"piramide/trigger": "inbox_sensor", "piramide/partitions": "2021-03..2021-06"})
def failing_job():
    build_step(extract_step())


def _failure_context(instance: dg.DagsterInstance) -> dg.RunFailureSensorContext:
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    event = result.get_run_failure_event()
    return dg.build_run_status_sensor_context(
        sensor_name="record_run_failures", dagster_event=event, dagster_instance=instance, dagster_run=run
    ).for_run_failure()


def _rows(wh):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(
            "select run_id, job, failed_at, step, message, run_tags from audit.run_failures order by failed_at"
        ).fetchall()
    finally:
        con.close()


def test_a_failed_run_is_recorded_once(env):
    instance = dg.DagsterInstance.ephemeral()
    context = _failure_context(instance)
    record_run_failures(context)
    record_run_failures(context)  # a repeated evaluation must not add a second row
    rows = _rows(env.warehouse)
    assert len(rows) == 1
    run_id, job, failed_at, step, message, tags = rows[0]
    assert run_id == context.dagster_run.run_id
    assert job == "failing_job"
    assert failed_at is not None
    assert step == "build_step"
    assert "dbt build failed after 1 step" in message
    assert json.loads(tags) == {"piramide/partitions": "2021-03..2021-06", "piramide/trigger": "inbox_sensor"}


def test_a_locked_warehouse_spools_the_failure_until_the_next_write(env, monkeypatch):
    monkeypatch.setattr(automation, "LOCK_WAIT_SECONDS", 1)
    env.warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(env.warehouse)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.read()", str(env.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    from datetime import datetime

    try:
        assert holder.stdout.readline().strip() == "held"
        first = RunFailure("run-1", "piramide_job", datetime(2021, 7, 5, 6), "load_extracts", "lock")
        assert record_run_failure(first) is False
        assert (env.warehouse.parent / "run_failures.pending.jsonl").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    second = RunFailure("run-2", "piramide_job", datetime(2021, 7, 5, 7), "piramide_dbt", "test failed")
    assert record_run_failure(second) is True
    assert [r[0] for r in _rows(env.warehouse)] == ["run-1", "run-2"]
    assert not (env.warehouse.parent / "run_failures.pending.jsonl").exists()
