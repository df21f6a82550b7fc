"""The inbox sensor and the monthly close request exactly the invalidated month closes."""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg
import duckdb
import pytest

from orchestration.defs.automation import (
    EXTRACT_MONTH_TAG,
    FILES_TAG,
    PARTITIONS_TAG,
    RANGE_END,
    RANGE_START,
    TRIGGER_TAG,
    evaluate_monthly_close,
    inbox_sensor,
    requested_partitions,
)
from orchestration.defs.inbox import plan_inbox
from orchestration.ingest import load_inbox
from tests.helpers import practice
from tests.orchestration.conftest import month_rows, opening_rows, write_month


def _tick(cursor: str | None = None):
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return inbox_sensor(context), context


def _ledger(wh):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(
            "select file, outcome, min_event_month from audit.load_ledger order by delivery_id"
        ).fetchall()
    finally:
        con.close()


def test_restated_march_and_a_late_march_event_in_may(first_half_2021):
    env = first_half_2021
    # Restated March: one practice now defined on the 25th instead of the 20th (same month, new checksum).
    write_month(env.inbox, "2021-03", month_rows("2021-03", defined_day=25))
    # May re-delivered with a practice received on 27 March, first reported in May.
    late = practice("PLATE0327", "2021-03-27", changed="2021-05-12")
    write_month(env.inbox, "2021-05", month_rows("2021-05", late=[late]))

    result, context = _tick()
    requests = list(result) if not isinstance(result, dg.RunRequest) else [result]
    assert all(isinstance(r, dg.RunRequest) for r in requests), requests

    # Exactly the invalidated set: from March (both deliveries' min_event_month) to June, the latest month.
    assert requested_partitions(requests) == ["2021-03", "2021-04", "2021-05", "2021-06"]
    assert len(requests) == 1
    req = requests[0]
    assert req.tags[RANGE_START] == "2021-03" and req.tags[RANGE_END] == "2021-06"
    assert req.tags[TRIGGER_TAG] == "inbox_sensor"
    assert req.tags[EXTRACT_MONTH_TAG] == "2021-03,2021-05"
    assert req.tags[FILES_TAG] == "practices_2021-03.csv,practices_2021-05.csv"
    assert req.tags[PARTITIONS_TAG] == "2021-03..2021-06"
    assert req.run_config == {
        "ops": {"load_extracts": {"config": {"files": ["practices_2021-03.csv", "practices_2021-05.csv"]}}}
    }
    assert req.run_key and req.run_key.startswith("inbox-")
    assert req.job_name == "piramide_job"

    # The sensor closed its read-only connection: this process can open the file read-write (docs/stack_notes.md §3).
    duckdb.connect(str(env.warehouse)).close()

    # The same files on the next tick give the same run key, so Dagster does not launch them twice.
    again, _ = _tick(context.cursor)
    again = list(again) if not isinstance(again, dg.RunRequest) else [again]
    assert [r.run_key for r in again] == [req.run_key]

    # The prediction is the loader's own figure: load and compare with the ledger.
    plan = plan_inbox(env.inbox, env.warehouse)
    assert [(f.name, f.restates, f.min_event_month) for f in plan.files] == [
        ("practices_2021-03.csv", True, "2021-03"),
        ("practices_2021-05.csv", True, "2021-03"),
    ]
    results = load_inbox(env.inbox)
    assert [(r.file, r.outcome, r.min_event_month) for r in results] == [
        ("practices_2021-03.csv", "restated", date(2021, 3, 1)),
        ("practices_2021-05.csv", "restated", date(2021, 3, 1)),
    ]
    after, _ = _tick()
    assert isinstance(after, dg.SkipReason) and "nothing new" in after.skip_message


def test_a_new_month_invalidates_only_itself(first_half_2021):
    env = first_half_2021
    write_month(env.inbox, "2021-07", month_rows("2021-07"))
    result, _ = _tick()
    assert requested_partitions([result] if isinstance(result, dg.RunRequest) else list(result)) == ["2021-07"]


def test_a_late_event_in_a_new_month(first_half_2021):
    env = first_half_2021
    late = practice("PLATE0415", "2021-04-15", changed="2021-07-02")
    write_month(env.inbox, "2021-07", month_rows("2021-07", late=[late]))
    result, _ = _tick()
    requests = [result] if isinstance(result, dg.RunRequest) else list(result)
    assert requested_partitions(requests) == ["2021-04", "2021-05", "2021-06", "2021-07"]
    assert load_inbox(env.inbox)[0].min_event_month == date(2021, 4, 1)


def test_a_state_change_of_an_old_practice_counts_from_the_change_not_the_receipt(first_half_2021):
    env = first_half_2021
    # June re-delivered: a practice received (and first reported) in January is now defined in June. It was
    # reported before, so its event is the definition, not the receipt: only June is invalidated.
    old = practice("P202101B", "2021-01-10", defined="2021-06-15", changed="2021-06-15")
    write_month(env.inbox, "2021-06", month_rows("2021-06", late=[old]))
    result, _ = _tick()
    requests = [result] if isinstance(result, dg.RunRequest) else list(result)
    assert requested_partitions(requests) == ["2021-06"]
    assert load_inbox(env.inbox)[0].min_event_month == date(2021, 6, 1)


def test_predictions_follow_the_pending_files_before_them(first_half_2021):
    env = first_half_2021
    # July brings a new practice; August, also pending, reports its definition. When August is loaded, July
    # is already in, so the practice is known and August's event is the definition.
    write_month(env.inbox, "2021-07", month_rows("2021-07"))
    known = practice("P202107B", "2021-07-10", defined="2021-08-04", changed="2021-08-04")
    write_month(env.inbox, "2021-08", [known])
    # And March restated with one practice dropped: the superseded rows count too.
    write_month(env.inbox, "2021-03", month_rows("2021-03")[:1])
    plan = plan_inbox(env.inbox, env.warehouse)
    predicted = {f.name: f.min_event_month for f in plan.files}
    loaded = {r.file: r.min_event_month.strftime("%Y-%m") for r in load_inbox(env.inbox)}
    assert predicted == loaded == {
        "practices_2021-03.csv": "2021-03",
        "practices_2021-07.csv": "2021-07",
        "practices_2021-08.csv": "2021-08",
    }
    assert list(plan.partitions) == ["2021-03", "2021-04", "2021-05", "2021-06", "2021-07", "2021-08"]


def test_an_identical_file_under_a_known_name_is_not_new(first_half_2021):
    env = first_half_2021
    # Rewriting the same bytes changes the mtime only: the checksum decides.
    path = env.inbox / "practices_2021-02.csv"
    path.write_bytes(path.read_bytes())
    result, _ = _tick()
    assert isinstance(result, dg.SkipReason)


def test_empty_warehouse_first_delivery(env):
    write_month(env.inbox, "2020-12", opening_rows())
    for m in (1, 2):
        write_month(env.inbox, f"2021-{m:02d}", month_rows(f"2021-{m:02d}"))
    plan = plan_inbox(env.inbox, env.warehouse)
    # The opening file is load-only: KPIs start with January.
    assert plan.first_kpi_month == "2021-01"
    assert [f.min_event_month for f in plan.files] == ["2021-01", "2021-01", "2021-02"]
    assert list(plan.partitions) == ["2021-01", "2021-02"]
    assert not env.warehouse.exists(), "planning must not create the warehouse"


def test_the_opening_file_alone_is_a_load_only_run(env):
    write_month(env.inbox, "2020-12", opening_rows())
    plan = plan_inbox(env.inbox, env.warehouse)
    assert plan.partitions == ()
    assert plan.run_partitions == ["2020-12"]


def test_a_busy_warehouse_skips_the_tick(first_half_2021):
    import subprocess
    import sys

    env = first_half_2021
    write_month(env.inbox, "2021-07", month_rows("2021-07"))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(60)", str(env.warehouse)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result, _ = _tick()
        assert isinstance(result, dg.SkipReason) and "being written" in result.skip_message
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    ("scheduled", "expected"),
    [
        (datetime(2021, 7, 5, 6), ["2021-06"]),  # the close of June
        (datetime(2021, 8, 5, 6), None),  # July has no extract yet: skip with a reason
    ],
)
def test_monthly_close(first_half_2021, scheduled, expected):
    out = evaluate_monthly_close(scheduled)
    if expected is None:
        assert isinstance(out, dg.SkipReason) and "2021-07" in out.skip_message
        return
    assert requested_partitions(out) == expected
    assert out[0].tags[TRIGGER_TAG] == "monthly_close"
    assert out[0].tags[EXTRACT_MONTH_TAG] == "2021-06"
    assert out[0].run_key == "monthly-close-2021-06"


def test_monthly_close_also_rebuilds_what_a_pending_delivery_invalidates(first_half_2021):
    env = first_half_2021
    write_month(env.inbox, "2021-04", month_rows("2021-04", defined_day=28))
    write_month(env.inbox, "2021-07", month_rows("2021-07"))
    out = evaluate_monthly_close(datetime(2021, 8, 5, 6))
    assert requested_partitions(out) == ["2021-04", "2021-05", "2021-06", "2021-07"]
    assert out[0].run_config["ops"]["load_extracts"]["config"]["files"] == [
        "practices_2021-04.csv", "practices_2021-07.csv",
    ]
