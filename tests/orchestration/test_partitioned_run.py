"""End to end through the partitioned path: the sensor's run request executed as a real run in another
process, while a BI reader reads the published copy and sees either the previous or the new complete state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.config import ROOT, settings
from orchestration.defs.automation import evaluate_inbox, requested_partitions
from orchestration.defs.partitions import invalidated_partitions
from orchestration.ingest import load_inbox
from orchestration.publish_bi import publish

RUNNER = """
import json, sys
import dagster as dg
from orchestration.definitions import defs
req = json.loads(sys.argv[1])
result = defs.resolve_job_def("piramide_job").execute_in_process(
    run_config=req["run_config"], tags=req["tags"], instance=dg.DagsterInstance.get(), raise_on_error=False
)
print("RUN", result.run_id, result.success, flush=True)
sys.exit(0 if result.success else 1)
"""


def _restate(path: Path) -> None:
    """Re-deliver a practices file with one practice's review flag flipped (a restatement that changes values)."""
    tmp = path.with_suffix(".tmp.parquet")
    con = duckdb.connect()
    try:
        con.execute(
            "copy (select * replace (case when practice_id = (select min(practice_id) from read_parquet($p)) "
            "then not review_flag else review_flag end as review_flag) from read_parquet($p)) "
            "to $t (format parquet)",
            {"p": str(path), "t": str(tmp)},
        )
    finally:
        con.close()
    os.replace(tmp, path)


def _state(path: Path, run_id_hint: str | None = None) -> tuple:
    """(ledger rows, months closed, has KPI scores) read in one connection: one snapshot of the file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        ledger = con.execute("select count(*) from audit.load_ledger").fetchone()[0]
        tables = {r[0] for r in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
        closed = ()
        if "audit.month_close" in tables:
            closed = tuple(
                r[0] for r in con.execute(
                    "select distinct strftime(period, '%Y-%m') from audit.month_close order by 1"
                ).fetchall()
            )
        scores = 0
        if "marts.fct_kpi_scores" in tables:
            scores = con.execute("select count(*) from marts.fct_kpi_scores").fetchone()[0]
        return ledger, closed, scores > 0
    finally:
        con.close()


@pytest.mark.slow
def test_sensor_request_runs_and_readers_never_see_a_partial_state(env):
    from orchestration.synthetic import generate

    generate(env.inbox, scale=0.002, years=(2021,), seed=11)
    for p in env.inbox.glob("*_2021-*"):
        if p.name[-len("2021-07.parquet"):] >= "2021-07.parquet":
            p.unlink()
    load_inbox(env.inbox)
    publish()  # the previous complete state: loaded through June, no KPIs yet
    published = settings().published_warehouse
    before = _state(published)
    assert before[1:] == ((), False)

    con = duckdb.connect(str(env.warehouse), read_only=True)
    march_mem = con.execute(
        "select min_event_month from audit.load_ledger where file = 'practices_2021-03.parquet'"
    ).fetchone()[0]
    con.close()
    _restate(env.inbox / "practices_2021-03.parquet")

    plan, requests = evaluate_inbox(None)
    assert [f.name for f in plan.files] == ["practices_2021-03.parquet"]
    expected = invalidated_partitions(march_mem, "2021-06", first_kpi_month="2021-01")
    assert requested_partitions(requests) == expected
    req = requests[0]

    # Output to a file, not a pipe: Dagster logs a lot, and a full pipe would block the run.
    log_path = env.tmp / "run.log"
    log = log_path.open("w")
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps({"run_config": req.run_config, "tags": req.tags})],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT,
    )
    states, retryable = [], 0
    try:
        while runner.poll() is None:
            try:
                states.append(_state(published))
            except duckdb.IOException:
                retryable += 1
            time.sleep(0.25)  # a BI dashboard's pace; leaves the two shared cores to the run
    finally:
        try:
            runner.wait(timeout=900)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()
            raise
        finally:
            log.close()
    out = log_path.read_text()
    assert runner.returncode == 0, out[-8000:]
    after = _state(published)
    # The new complete state: the restatement in the ledger, exactly the invalidated months closed, KPIs.
    assert after == (before[0] + 1, tuple(expected), True)
    # Every read during the run saw one of the two complete states, in order.
    assert set(states) <= {before, after}, set(states) - {before, after}
    assert states == sorted(states, key=lambda s: s != before)
    assert states.count(before) > 0

    # The run's own record: tags, and the months the close wrote.
    run_id = out.split("RUN ", 1)[1].split()[0]
    run = dg.DagsterInstance.get().get_run_by_id(run_id)
    assert run.tags["piramide/trigger"] == "inbox_sensor"
    assert run.tags["piramide/files"] == "practices_2021-03.parquet"
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        closed = con.execute(
            "select strftime(period, '%Y-%m') from audit.month_close where run_id = ? order by 1", [run_id]
        ).fetchall()
        outcome = con.execute(
            "select outcome from audit.load_ledger where file = 'practices_2021-03.parquet' order by delivery_id"
        ).fetchall()
    finally:
        con.close()
    assert [c[0] for c in closed] == expected
    assert [o[0] for o in outcome] == ["loaded", "restated"]
    # The sensor's run writes the same artefacts as `piramide run`: the report of its latest month, the run's
    # data-quality summary page, and a BI copy carrying the run's own audit.dq_results.
    from orchestration.quality import dq_dir

    assert (settings().reports_dir / "report_2021-06.html").exists()
    assert (dq_dir(env.warehouse) / f"dq_summary_{run_id}.html").exists()
    con = duckdb.connect(str(published), read_only=True)
    try:
        latest = con.execute("select run_id from audit.dq_results order by checked_at desc limit 1").fetchone()
    finally:
        con.close()
    assert latest == (run_id,)
    print(f"{len(states)} reads during the run, {retryable} retryable errors")
