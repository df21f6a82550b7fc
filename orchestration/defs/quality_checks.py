"""The data-quality suites as Dagster asset checks, one per suite (orchestration/quality).

- Extract families (raw/<family>): blocking. A failed expectation of severity `error` fails the check with
  severity ERROR, and Dagster does not run what depends on the extracts (dbt and everything after it). Only
  `warning` failures: the check fails with severity WARN, shown in the UI, and the run goes on.
- The plan's own arithmetic (reference/<seed>): its findings pass the check and are listed in its metadata; a
  failure of severity `error` (a zero target on a scored leaf) fails it with ERROR. Blocking too, so that the
  run's results step (`audit/dq_results`, orchestration/defs/output_assets.py) runs after every check.
- The marts are guaranteed by dbt alone (enforced contracts, generic, singular and unit tests), which surface as
  asset checks through dagster-dbt: no second quality system re-checks them.

Every check opens the warehouse read-only, closes it before returning (so the next step's writer gets the lock),
and spools its results under reports/dq/runs/<run_id>/: a check cannot write the warehouse. The job's
`audit/dq_results` step persists them. When a run fails before that step, the sensor `dq_results_of_failed_runs`
persists what its checks spooled and writes its summary page, once the run has ended.
Great Expectations is imported inside the check, never by this module: the code server loads it on every reload.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.
import json

import dagster as dg

from orchestration.config import settings
from orchestration.defs.automation import RANGE_END, RANGE_START
from orchestration.defs.dbt_assets import piramide_dbt
from orchestration.defs.jobs import JOB_NAME
from orchestration.defs.raw_assets import RAW_KEYS
from orchestration.quality.suites import suite_catalog

PARTITION = "dagster/partition"  # a single-partition run; a range run carries RANGE_START and RANGE_END
MAX_LISTED = 20  # failed expectations listed in a check's metadata; the full list is in the summary


def months_of(tags) -> tuple[str, str] | None:
    lo, hi = tags.get(RANGE_START), tags.get(RANGE_END)
    if lo and hi:
        return lo, hi
    if tags.get(PARTITION):
        return tags[PARTITION], tags[PARTITION]
    return None


def _table(rows) -> str:
    lines = ["| severity | expectation | unexpected | observed |", "|---|---|---|---|"]
    for r in rows[:MAX_LISTED]:
        observed = (r.observed_value or "").replace("|", "/").replace("\n", " ")[:160]
        count = "" if r.unexpected_count is None else r.unexpected_count
        lines.append(f"| {r.severity} | `{r.expectation}` | {count} | {observed} |")
    if len(rows) > MAX_LISTED:
        lines.append(f"| | … {len(rows) - MAX_LISTED} more in the data-quality summary | | |")
    return "\n".join(lines)


def run_suite_check(suite_name: str, kind: str, run_id: str, months: tuple[str, str] | None = None,
                    warehouse=None) -> dg.AssetCheckResult:
    """Validate one suite read-only, spool its results, and turn them into a check result."""
    from orchestration.quality import dq_dir, spool
    from orchestration.quality.runner import validate
    from orchestration.quality.suites import suite_index

    warehouse = warehouse or settings().warehouse
    suite = suite_index()[suite_name]
    outcome = validate(warehouse, [suite], run_id, months if kind == "raw" else None)[0]
    spool(warehouse, [outcome], run_id)
    errors, warnings, findings = outcome.errors, outcome.warnings, outcome.findings
    passed = not errors and not warnings
    severity = dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN
    failed = errors + warnings + findings
    metadata = {
        "expectations": dg.MetadataValue.int(len(outcome.rows)),
        "passed": dg.MetadataValue.int(sum(r.success for r in outcome.rows)),
        "errors": dg.MetadataValue.int(len(errors)),
        "warnings": dg.MetadataValue.int(len(warnings)),
        "findings": dg.MetadataValue.int(len(findings)),
        "scope": outcome.rows[0].partition or "all" if outcome.rows else "all",
        "seconds": round(outcome.seconds, 2),
        "summary": dg.MetadataValue.path(str(dq_dir(warehouse) / "dq_summary_latest.html")),
    }
    if failed:
        metadata["failed_expectations"] = dg.MetadataValue.md(_table(failed))
        keys = next((r.failing_keys for r in errors + warnings if r.failing_keys), None)
        if keys:
            metadata["first_failing_keys"] = dg.MetadataValue.json(json.loads(keys))
    description = None
    if errors:
        description = f"{len(errors)} expectation(s) of severity error failed: " + ", ".join(
            r.expectation for r in errors[:5])
    elif warnings:
        description = f"{len(warnings)} warning(s): " + ", ".join(r.expectation for r in warnings[:5])
    elif findings:
        description = f"passed; {len(findings)} finding(s) in the plan's own figures (reported, not failures)"
    return dg.AssetCheckResult(passed=passed, severity=severity, metadata=metadata, description=description)


def _build_check(suite_name: str, kind: str, asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    what = {
        "raw": "the landing contract (columns, types, required columns, code lists, ranges, date order and "
               "windows, keys, pseudonym format, volume against the previous month)",
        "plan": "the plan's own arithmetic; findings are reported, not failures",
    }[kind]

    @dg.asset_check(
        asset=asset_key,
        name=f"dq_{suite_name}",
        blocking=True,
        description=f"Great Expectations suite {suite_name}: {what}. Blocking on errors.",
        op_tags={"piramide/reads": "warehouse"},
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return run_suite_check(suite_name, kind, context.run.run_id, months_of(context.run.tags))

    return _check


def _known_keys() -> set[dg.AssetKey]:
    # A check on an asset the graph does not have would fail the whole code location; a stale manifest (a new
    # mart not yet parsed) drops that one check instead.
    return set(RAW_KEYS.values()) | set(piramide_dbt.keys)


PLAN_KEYS = sorted({dg.AssetKey(list(key)) for _, kind, key in suite_catalog() if kind == "plan"},
                   key=lambda k: k.to_user_string())

quality_checks: list[dg.AssetChecksDefinition] = [
    _build_check(name, kind, dg.AssetKey(list(key)))
    for name, kind, key in suite_catalog()
    if dg.AssetKey(list(key)) in _known_keys()
]


# ------------------------------------------------------------------------------ persisting a finished run's results

ACTIVE = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
          dg.DagsterRunStatus.STARTED)


def persist_finished_runs(instance: dg.DagsterInstance, log) -> list[str]:
    """run_checks for every spooled run that has finished; returns the summary lines written.

    The spool directory is the to-do list: run_checks removes it once the rows are in audit.dq_results, so a run
    `piramide run` already persisted is never written twice.
    """
    import duckdb

    from orchestration.defs.resilience import is_transient
    from orchestration.quality import SPOOL, dq_dir, run_checks, summary_line

    warehouse = settings().warehouse
    root = dq_dir(warehouse) / SPOOL
    if not root.is_dir():
        return []
    lines = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        run = instance.get_run_by_id(d.name)
        if run is not None and not run.is_finished:
            continue
        try:
            # Only what the run checked: a suite the run did not reach is listed as not run, and validating it
            # here would take the import of Great Expectations and minutes of SQL inside a sensor tick.
            res = run_checks(warehouse, d.name, months_of(run.tags) if run is not None else None,
                             validate_missing=False)
        except duckdb.Error as exc:
            if is_transient(exc):
                log.info(f"warehouse busy; results of run {d.name} wait for the next tick")
                break
            raise
        lines.append(summary_line(res))
        log.info(lines[-1])
    return lines


@dg.sensor(
    name="dq_results_of_failed_runs",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="After a run of the job has failed before its own results step, appends what its asset checks "
    "spooled (they open the warehouse read-only) to audit.dq_results and writes the run's summary page, "
    "reports/dq/dq_summary_<run>.html. A green run has done both itself. Waits while a run is active.",
)
def dq_results_of_failed_runs(context: dg.SensorEvaluationContext):
    active = context.instance.get_runs(filters=dg.RunsFilter(job_name=JOB_NAME, statuses=list(ACTIVE)), limit=1)
    if active:
        return dg.SkipReason(f"run {active[0].run_id} is in progress; one writer at a time")
    lines = persist_finished_runs(context.instance, context.log)
    return dg.SkipReason("; ".join(lines) if lines else "no finished run with unpersisted results")


quality_sensors = [dq_results_of_failed_runs]
