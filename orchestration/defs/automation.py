"""The schedule, the inbox sensor and the run-failure sensor. All default to STOPPED: a `dagster dev` started
to look around never writes the warehouse until someone switches them on."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.config import settings
from orchestration.defs.inbox import InboxPlan, plan_inbox
from orchestration.defs.jobs import JOB_NAME, piramide_job
from orchestration.defs.partitions import add_months, contiguous_ranges, month_key, monthly_partitions
from orchestration.defs.resilience import is_transient
from orchestration.warehouse import ddl

log = logging.getLogger(__name__)

TRIGGER_TAG = "piramide/trigger"
EXTRACT_MONTH_TAG = "piramide/extract_month"
FILES_TAG = "piramide/files"
PARTITIONS_TAG = "piramide/partitions"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
TAG_VALUE_LIMIT = 1000  # tags are for the UI's filters; the full file list travels in the run config

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _short(values: list[str]) -> str:
    text = ",".join(values)
    if len(text) <= TAG_VALUE_LIMIT:
        return text
    cut = text[: TAG_VALUE_LIMIT - 20].rsplit(",", 1)[0]
    return f"{cut},... (+{len(values) - cut.count(',') - 1} more)"


def run_requests(
    partitions: list[str], files: list[str], trigger: str, extract_months: list[str], run_key: str | None = None
) -> list[dg.RunRequest]:
    """One run per contiguous range of partitions (one range in practice: invalidations run to the latest
    month). Every run names all the files; the load skips those already in the ledger."""
    requests = []
    ranges = contiguous_ranges(partitions)
    for first, last in ranges:
        tags = {
            RANGE_START: first,
            RANGE_END: last,
            TRIGGER_TAG: trigger,
            EXTRACT_MONTH_TAG: _short(extract_months),
            FILES_TAG: _short(files),
            PARTITIONS_TAG: first if first == last else f"{first}..{last}",
        }
        key = None if run_key is None else (run_key if len(ranges) == 1 else f"{run_key}:{first}")
        requests.append(
            dg.RunRequest(
                run_key=key,
                job_name=JOB_NAME,
                run_config={"ops": {"load_extracts": {"config": {"files": list(files)}}}},
                tags=tags,
            )
        )
    return requests


def requested_partitions(requests: list[dg.RunRequest]) -> list[str]:
    """The partition keys a list of run requests covers (what tests and logs compare with the plan)."""
    keys: list[str] = []
    for r in requests:
        keys += monthly_partitions.get_partition_keys_in_range(r.partition_key_range)
    return sorted(set(keys))


def _active_run(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=JOB_NAME, statuses=ACTIVE), limit=1)
    return runs[0] if runs else None


# ----------------------------------------------------------------------------------------- inbox sensor


def evaluate_inbox(cursor: str | None) -> tuple[InboxPlan | None, list[dg.RunRequest] | dg.SkipReason]:
    """The sensor's logic without Dagster's context: plan the inbox, build the run requests."""
    s = settings()
    cache = json.loads(cursor) if cursor else {}
    try:
        plan = plan_inbox(s.inbox, s.warehouse, cache)
    except duckdb.Error as exc:
        if is_transient(exc):
            return None, dg.SkipReason("the warehouse is being written; will look again at the next tick")
        raise
    if not plan.files:
        return plan, dg.SkipReason(f"nothing new in {s.inbox}")
    names = [f.name for f in plan.files]
    requests = run_requests(
        plan.run_partitions, names, "inbox_sensor", plan.extract_months, run_key=f"inbox-{plan.delivery_key()}"
    )
    return plan, requests


@dg.sensor(
    name="inbox_sensor",
    job=piramide_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches the inbox folder (PIRAMIDE_INBOX) for files whose name and checksum the load ledger "
    "has not seen (new or re-delivered), predicts each one's min_event_month, and requests one run that "
    "loads exactly those files and closes exactly the invalidated months (from min_event_month to the latest "
    "month, plus the year-on-year consumers). Reads the ledger read-only and closes the connection.",
)
def inbox_sensor(context: dg.SensorEvaluationContext):
    active = _active_run(context.instance)
    if active is not None:
        return dg.SkipReason(f"run {active.run_id} of {JOB_NAME} is in progress; one writer at a time")
    plan, outcome = evaluate_inbox(context.cursor)
    if plan is not None:
        context.update_cursor(json.dumps(plan.checksums, sort_keys=True))
    if isinstance(outcome, dg.SkipReason):
        return outcome
    for f in plan.files:
        context.log.info(
            f"{f.name}: {'restatement' if f.restates else 'new'}; min_event_month {f.min_event_month or '-'}"
        )
    context.log.info("invalidated month closes: " + (", ".join(plan.partitions) or "none (load only)"))
    return outcome


# -------------------------------------------------------------------------------------- monthly close


def closing_month(scheduled: datetime) -> str:
    """The month a close on `scheduled` closes: the previous calendar month."""
    return month_key(add_months(scheduled.date(), -1))


def evaluate_monthly_close(scheduled: datetime) -> list[dg.RunRequest] | dg.SkipReason:
    month = closing_month(scheduled)
    s = settings()
    try:
        plan = plan_inbox(s.inbox, s.warehouse)
    except duckdb.Error as exc:
        if not is_transient(exc):
            raise
        # A close is not repeated by the scheduler: rather than skip, close the month with whatever the load
        # finds; the inbox sensor still rebuilds what earlier deliveries invalidated.
        return run_requests([month], [], "monthly_close", [month], run_key=f"monthly-close-{month}")
    if month not in plan.kpi_months:
        return dg.SkipReason(f"no practices extract for {month} in the ledger or the inbox yet: nothing to close")
    partitions = sorted(set(plan.partitions) | {month})
    # Contiguous by construction when the close is the latest month; fill any gap so one run covers it.
    partitions = monthly_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(partitions[0], partitions[-1]))
    return run_requests(
        partitions, [f.name for f in plan.files], "monthly_close", [month], run_key=f"monthly-close-{month}"
    )


@dg.schedule(
    name="monthly_close",
    cron_schedule="0 6 5 * *",
    execution_timezone="Europe/Rome",
    job=piramide_job,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="The monthly close, on the 5th at 06:00 (Europe/Rome), once the month's extracts are in: "
    "loads what is new and closes the previous month plus every month a pending delivery invalidates. "
    "Skips (with a reason) when the month has no extract yet.",
)
def monthly_close(context: dg.ScheduleEvaluationContext):
    return evaluate_monthly_close(context.scheduled_execution_time)


# --------------------------------------------------------------------------------- run-failure sensor

# If the warehouse stays locked longer than this, the failure is spooled to a file and written next time:
# a run-status sensor advances its cursor even when it raises, so a lost write would be lost for good.
LOCK_WAIT_SECONDS = 30


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job: str
    failed_at: datetime
    step: str | None
    message: str
    run_tags: str = "{}"


def failure_from_context(context: dg.RunFailureSensorContext) -> RunFailure:
    run = context.dagster_run
    steps = context.get_step_failure_events()
    step = steps[0].step_key if steps else None
    if steps and steps[0].step_failure_data and steps[0].step_failure_data.error:
        # Dagster wraps the step's exception ("Error occurred while executing op ..."): the innermost cause
        # is the one an operator can act on.
        error = steps[0].step_failure_data.error
        while error.cause is not None:
            error = error.cause
        message = error.message.strip()
    else:
        message = (context.failure_event.message or "run failed").strip()
    record = context.instance.get_run_record_by_id(run.run_id)
    failed_at = datetime.now(UTC)
    if record is not None and record.end_time:
        failed_at = datetime.fromtimestamp(record.end_time, UTC)
    tags = {k: v for k, v in run.tags.items() if k.startswith("piramide/") or k.startswith("dagster/asset_partition")}
    return RunFailure(
        run_id=run.run_id,
        job=run.job_name,
        failed_at=failed_at.replace(tzinfo=None),  # stored as UTC, like Dagster's own timestamps
        step=step,
        message=message[:4000],
        run_tags=json.dumps(tags, sort_keys=True),
    )


def _spool(warehouse: Path) -> Path:
    return warehouse.parent / "run_failures.pending.jsonl"


def record_run_failure(failure: RunFailure, warehouse: Path | None = None) -> bool:
    """Insert the failure into audit.run_failures (idempotent per run_id). Returns False when the warehouse
    stayed locked and the failure was spooled beside it instead."""
    warehouse = Path(warehouse or settings().warehouse)
    spool = _spool(warehouse)
    row = {
        "run_id": failure.run_id,
        "job": failure.job,
        "failed_at": failure.failed_at.isoformat(),
        "step": failure.step,
        "message": failure.message,
        "run_tags": failure.run_tags,
    }
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(warehouse))
            break
        except duckdb.Error as exc:
            if not is_transient(exc):
                raise
            if time.monotonic() > deadline:
                with spool.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
                log.error("warehouse locked; run failure %s spooled to %s", failure.run_id, spool)
                return False
            time.sleep(1)
    try:
        _write_failures(con, spool, [row])
    finally:
        con.close()
    return True


def _write_failures(con: duckdb.DuckDBPyConnection, spool: Path, rows: list[dict]) -> int:
    ddl.apply(con, "audit_runs")
    if spool.exists():
        rows = [json.loads(line) for line in spool.read_text(encoding="utf-8").splitlines() if line] + rows
    con.execute("begin transaction")
    for r in rows:
        con.execute(
            "insert into audit.run_failures values (?, ?, ?::timestamp, ?, ?, ?) on conflict do nothing",
            [r["run_id"], r["job"], r["failed_at"], r["step"], r["message"], r["run_tags"]],
        )
    con.execute("commit")
    spool.unlink(missing_ok=True)
    return len(rows)


def drain_run_failure_spool(con: duckdb.DuckDBPyConnection, warehouse: Path | None = None) -> int:
    """Write failures spooled while the warehouse was locked; called by the next run that holds the lock."""
    spool = _spool(Path(warehouse or settings().warehouse))
    return _write_failures(con, spool, []) if spool.exists() else 0


@dg.run_failure_sensor(
    name="record_run_failures",
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Records every failed run of this code location in audit.run_failures (run_id, job, "
    "failed_at, failed step, message, piramide tags) and in the log. Opens the warehouse only after the "
    "run has ended, so it never competes with the run for the writer lock.",
)
def record_run_failures(context: dg.RunFailureSensorContext):
    failure = failure_from_context(context)
    stored = record_run_failure(failure)
    context.log.error(
        f"run {failure.run_id} of {failure.job} failed at step {failure.step or '-'}: {failure.message[:500]}"
        + ("" if stored else " (warehouse locked: spooled, written with the next failure)")
    )
