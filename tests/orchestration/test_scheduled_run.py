"""The product is the job a schedule starts: a monthly close requested by the schedule writes the month's
report, the data-quality summary page, and a BI copy whose audit.dq_results holds that very run."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import duckdb
import pytest

from orchestration.config import settings


@pytest.mark.slow
def test_the_scheduled_monthly_close_writes_every_artefact_of_the_run(env):
    from orchestration.definitions import defs
    from orchestration.defs.automation import monthly_close
    from orchestration.quality import dq_dir
    from orchestration.synthetic import generate

    generate(env.inbox, scale=0.002, years=(2021,), seed=11)
    for p in env.inbox.glob("*_2021-*"):
        if p.stem.rsplit("_", 1)[1] > "2021-03":
            p.unlink()

    # Exactly what the scheduler does on 5 April 2021: evaluate the schedule, then launch its run request.
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2021, 4, 5, 6, 0))
    (request,) = monthly_close(context)
    assert request.tags["piramide/trigger"] == "monthly_close"
    instance = dg.DagsterInstance.get()
    result = defs.resolve_job_def("piramide_job").execute_in_process(
        run_config=request.run_config, tags=request.tags, instance=instance, raise_on_error=False)
    assert result.success
    run_id = result.run_id

    reports = settings().reports_dir
    assert (reports / "report_2021-03.html").exists()
    assert "2021" in (reports / "report_latest.html").read_text(encoding="utf-8")[:20000]
    page = dq_dir(env.warehouse) / f"dq_summary_{run_id}.html"
    assert page.exists() and run_id in page.read_text(encoding="utf-8")
    assert (reports / "dbt_docs" / "static_index.html").exists()

    # The BI copy is published last, so it carries this run's data-quality results and month close.
    con = duckdb.connect(str(settings().published_warehouse), read_only=True)
    try:
        dq_runs = dict(con.execute("select run_id, count(*) from audit.dq_results group by 1").fetchall())
        closed = con.execute("select strftime(period, '%Y-%m') from audit.month_close where run_id = ?",
                             [run_id]).fetchall()
    finally:
        con.close()
    assert list(dq_runs) == [run_id] and dq_runs[run_id] > 100
    # Every file is new: the close takes the opening month (load only) and closes January to March, which the
    # pending deliveries invalidate, besides the month it is for.
    assert closed == [("2021-01",), ("2021-02",), ("2021-03",)]
    # The step order of the one graph: checks, results, report, docs, and the BI copy last.
    order = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"]
    last = ["data_quality_results", "monthly_report", "dbt_docs", "bi_published_copy"]
    assert [s for s in order if s in last] == last
    assert order.index("piramide_dbt") < order.index("data_quality_results")
    assert all(order.index(s) < order.index("data_quality_results") for s in order if "_dq_" in s)
