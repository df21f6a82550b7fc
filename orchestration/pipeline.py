"""`piramide run`: the monthly pipeline end to end, executed through the Dagster job a schedule would run."""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from pathlib import Path

from orchestration.config import settings


def _stage_times(instance, run_id: str) -> dict[str, float]:
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


STEP_LABELS = {
    "load_extracts": "load (validate, quarantine, ledger)",
    "piramide_dbt": "dbt build (seeds, models, tests)",
    "month_close": "month close (audit.month_close)",
    "bi_published_copy": "publish BI copy (copy, verify, swap)",
}


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


def run_pipeline(scale: float, seed: int, regenerate: bool = False, period: str | None = None) -> int:
    import dagster as dg

    from orchestration.summary import print_summary
    from orchestration.synthetic import generate

    s = settings()
    timings: list[tuple[str, float]] = []
    t_all = time.perf_counter()

    inbox: Path = s.inbox
    has_files = inbox.exists() and any(p.is_file() for p in inbox.iterdir())
    t0 = time.perf_counter()
    if regenerate and inbox.exists():
        shutil.rmtree(inbox)
        has_files = False
    if not has_files:
        res = generate(inbox, scale=scale, seed=seed)
        print(f"generated {len(res.files)} sample files in {inbox}: "
              + ", ".join(f"{k} {v:,} rows" for k, v in res.rows.items()))
        timings.append(("generate sample", time.perf_counter() - t0))
    else:
        print(f"using the files already in {inbox} (--regenerate for a fresh sample)")

    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("piramide_job")
    tags = full_rebuild_tags(inbox, s.warehouse)
    print(f"full rebuild: months {tags['piramide/partitions']}")
    t0 = time.perf_counter()
    result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    wall = time.perf_counter() - t0
    steps = _stage_times(instance, result.run_id)
    for key, label in STEP_LABELS.items():
        if key in steps:
            timings.append((label, steps[key]))
    timings.append(("dagster overhead", max(0.0, wall - sum(steps.values()))))
    # --- data-quality checks (orchestration/quality) -------------------------------------------------------
    from orchestration.quality import checks_stage

    dq_lines, dq_ok = checks_stage(s.warehouse, result.run_id, tags, steps, timings)
    # ---------------------------------------------------------------------------------------------------------
    if not result.success:
        print("\nThe Dagster run FAILED; see the messages above. Timings so far:")
        _print_timings(timings, time.perf_counter() - t_all)
        print("\n".join(dq_lines))  # data-quality summary: what failed, for the operator and the auditor
        return 1
    t0 = time.perf_counter()
    print()
    print_summary(period)
    timings.append(("summary", time.perf_counter() - t0))
    # --- report and dbt docs (orchestration/report) ---------------------------------------------------------
    from orchestration.report import report_and_docs

    report_lines, report_ok = report_and_docs(period, timings)
    # ---------------------------------------------------------------------------------------------------------
    _print_timings(timings, time.perf_counter() - t_all)
    size = s.warehouse.stat().st_size / 1e6 if s.warehouse.exists() else 0
    print(f"warehouse: {s.warehouse} ({size:,.1f} MB)")
    pub = s.published_warehouse
    if pub.exists():
        print(f"published copy for BI (open read-only): {pub} ({pub.stat().st_size / 1e6:,.1f} MB)")
    for line in report_lines:  # the report's path comes last, where a user looks for it
        print(line)
    print("\n".join(dq_lines))  # data-quality summary path and counts: the last lines (issue 4)
    return 0 if report_ok and dq_ok else 1


def _print_timings(timings: list[tuple[str, float]], total: float) -> None:
    print("\nStage timings")
    for label, secs in timings:
        print(f"  {label:<40} {secs:8.1f} s")
    print(f"  {'total':<40} {total:8.1f} s")
