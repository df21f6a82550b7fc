"""`piramide run`: materialise the one Dagster job over the whole history and print what a person needs.

Everything the product promises (load, dbt, checks, their results and summary page, the report, the dbt docs,
the BI copy) is an asset of `piramide_job`; this module only generates the default sample when the inbox is
empty, launches the job the way the schedule would, and prints the stages, the national figures and the paths.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections import defaultdict
from pathlib import Path

from orchestration.config import settings
from orchestration.console import progress

log = logging.getLogger(__name__)

# Console rows of the stage table: the Dagster steps that make up each stage, in run order.
STAGES = (
    ("load (validate, quarantine, ledger)", ("load_extracts",)),
    ("checks of the extracts and the plan", ("dq_",)),
    ("dbt build (seeds, models, tests)", ("piramide_dbt",)),
    ("month close", ("month_close",)),
    ("data-quality results and summary", ("data_quality_results",)),
    ("report (HTML)", ("monthly_report",)),
    ("dbt docs", ("dbt_docs",)),
    ("BI copy (copy, verify, swap)", ("bi_published_copy",)),
)


def step_seconds(instance, run_id: str) -> dict[str, float]:
    """Seconds per Dagster step of a finished run, from its event log."""
    starts: dict[str, float] = {}
    durations: dict[str, float] = defaultdict(float)
    for entry in instance.all_logs(run_id):
        ev = entry.dagster_event
        if ev is None or not ev.step_key:
            continue
        if ev.event_type_value == "STEP_START":
            starts[ev.step_key] = entry.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and ev.step_key in starts:
            durations[ev.step_key] += entry.timestamp - starts.pop(ev.step_key)
    return dict(durations)


def stage_times(steps: dict[str, float]) -> list[tuple[str, float]]:
    out = []
    for label, prefixes in STAGES:
        keys = [k for k in steps if any(k.startswith(p) or (p == "dq_" and "_dq_" in k) for p in prefixes)]
        if keys:
            out.append((label, sum(steps[k] for k in keys)))
    return out


def materialized_metadata(result) -> dict[str, dict]:
    """Asset key (user string) -> metadata of its materialisation in this run (plain values)."""
    out: dict[str, dict] = {}
    for ev in result.all_events:
        if ev.event_type_value != "ASSET_MATERIALIZATION":
            continue
        mat = ev.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return out


def failure_reason(result) -> str:
    """The innermost cause of the first failed step, in one line."""
    for ev in result.all_events:
        if ev.event_type_value == "STEP_FAILURE":
            error = ev.event_specific_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            message = (error.message if error is not None else ev.message or "").strip().splitlines()
            return f"{ev.step_key}: {message[0] if message else 'failed'}"[:400]
    return "the run did not finish (see the log)"


def full_rebuild_tags(inbox: Path, warehouse: Path) -> dict[str, str]:
    """Run tags for the whole history: every partition from the first month with data to the latest.

    The load takes everything new in the inbox; dbt rebuilds every model; every month with data is closed.
    """
    from orchestration.defs.automation import PARTITIONS_TAG, RANGE_END, RANGE_START, TRIGGER_TAG
    from orchestration.defs.inbox import data_months
    from orchestration.defs.partitions import clip_to_partitions, monthly_partitions

    keys = clip_to_partitions(data_months(inbox, warehouse), monthly_partitions)
    if not keys:
        keys = [monthly_partitions.get_first_partition_key()]
    first, last = keys[0], keys[-1]
    return {
        RANGE_START: first,
        RANGE_END: last,
        TRIGGER_TAG: "piramide_run",
        PARTITIONS_TAG: first if first == last else f"{first}..{last}",
        "piramide/extract_month": "all",
    }


def _generate_if_empty(inbox: Path, scale: float, seed: int, regenerate: bool) -> None:
    from orchestration.synthetic import generate

    if regenerate and inbox.exists():
        shutil.rmtree(inbox)
    if inbox.exists() and any(p.is_file() for p in inbox.iterdir()):
        progress.info(f"inbox: using the files already in {inbox} (--regenerate for a fresh sample)")
        return
    t0 = time.perf_counter()
    res = generate(inbox, scale=scale, seed=seed)
    progress.info(f"generate: {len(res.files)} sample files, {sum(res.rows.values()):,} rows at scale {scale} "
                  f"({time.perf_counter() - t0:.1f} s)")


def run_pipeline(scale: float, seed: int, regenerate: bool = False, period: str | None = None,
                 verbose: bool = False, log_file: Path | None = None) -> int:
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.summary import print_summary

    s = settings()
    t_all = time.perf_counter()
    _generate_if_empty(s.inbox, scale, seed, regenerate)

    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("piramide_job")
    tags = full_rebuild_tags(s.inbox, s.warehouse)
    progress.info(f"run: months {tags['piramide/partitions']} through Dagster job {job.name}")
    # Dagster's own console logger prints every event: to the log file only, unless --verbose.
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "CRITICAL"}}}}
    if period:
        run_config["ops"] = {"monthly_report": {"config": {"period": period}}}
    with _quiet(None if verbose else log_file):
        result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False, run_config=run_config)
    steps = step_seconds(instance, result.run_id)
    meta = materialized_metadata(result)

    if not result.success:
        from orchestration.quality import run_checks, summary_line

        print(f"\nThe run FAILED at {failure_reason(result)}")
        _print_stages(steps, time.perf_counter() - t_all)
        try:
            # The failure path: what the run's checks spooled becomes audit.dq_results and the summary page (the
            # sensor dq_results_of_failed_runs does the same for runs the daemon started).
            print(summary_line(run_checks(s.warehouse, result.run_id, validate_missing=False)))
        except Exception:  # noqa: BLE001 - the run already failed; say where the details are
            log.exception("could not persist the failed run's data-quality results")
        if log_file:
            print(f"log: {log_file}")
        return 1

    print()
    print_summary(period, max_level=1)
    _print_stages(steps, time.perf_counter() - t_all)
    dq = meta.get("dq_summary_page", {})
    report = meta.get("monthly_report", {})
    bi = meta.get("bi_published_copy", {})
    docs = meta.get("dbt_docs", {})
    size = s.warehouse.stat().st_size / 1e6 if s.warehouse.exists() else 0
    print(f"warehouse: {s.warehouse} ({size:,.1f} MB)")
    if bi:
        print(f"BI copy (open read-only): {bi.get('path')} ({bi.get('size_mb', 0):,.1f} MB)")
    if docs.get("path"):
        print(f"dbt docs: {docs['path']}")
    if log_file:
        print(f"log: {log_file}")
    if dq:
        print(f"data-quality summary: {dq.get('path')} ({dq.get('expectations')} expectations, "
              f"{dq.get('failed')} failed, {dq.get('findings')} findings)")
    print(f"report: {report.get('path')} ({report.get('size_kb', 0):,} kB; latest: {report.get('latest')})")
    return 0 if not dq.get("errors") else 1


@contextlib.contextmanager
def _quiet(log_file: Path | None):
    """Send what libraries print (dagster-dbt echoes every dbt line to stdout) to the log file.

    The console's progress handler keeps the real stdout it was given at set-up, so stage lines still show.
    """
    if log_file is None:
        yield
        return
    with open(log_file, "a", encoding="utf-8") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        yield


def _print_stages(steps: dict[str, float], total: float) -> None:
    print("\nStage timings")
    for label, secs in stage_times(steps):
        print(f"  {label:<40} {secs:8.1f} s")
    print(f"  {'total (with Dagster and generation)':<40} {total:8.1f} s")
