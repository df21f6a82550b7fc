"""A run's data-quality results: persisted to audit.dq_results, summarised on one page for the auditors.

`run_checks(warehouse, run_id)` is what the job's results step calls: it takes the results the Dagster asset
checks of that run already produced (spooled under reports/dq/runs/<run_id>/, because a check opens the warehouse
read-only and cannot write it), validates whatever the run did not check, evaluates source freshness, appends
everything to `audit.dq_results`, and writes the one-page summary (reports/dq/dq_summary_<run>.html and
dq_summary_latest.html) with GX Data Docs beside it (reports/dq/data_docs/).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

SPOOL = "runs"


def dq_dir(warehouse: Path) -> Path:
    """reports/dq under the warehouse's folder (or under PIRAMIDE_REPORTS)."""
    base = os.environ.get("PIRAMIDE_REPORTS")
    return (Path(base) if base else Path(warehouse).resolve().parent / "reports") / "dq"


def _safe(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)[:80]


def spool(warehouse: Path, outcomes, run_id: str) -> None:
    """Keep a Dagster check's results until the run's checks stage persists them (files, never the warehouse)."""
    d = dq_dir(warehouse) / SPOOL / _safe(run_id)
    d.mkdir(parents=True, exist_ok=True)
    for o in outcomes:
        tmp = d / f".{o.suite}.json.tmp"
        tmp.write_text(o.to_json(), encoding="utf-8")
        tmp.replace(d / f"{o.suite}.json")


def _spooled(warehouse: Path, run_id: str):
    from orchestration.quality.runner import SuiteOutcome

    d = dq_dir(warehouse) / SPOOL / _safe(run_id)
    if not d.is_dir():
        return {}
    out = {}
    for p in sorted(d.glob("*.json")):
        try:
            o = SuiteOutcome.from_json(p.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable spooled result %s", p.name)
            continue
        out[o.suite] = o
    return out


def freshness_outcome(warehouse: Path, run_id: str):
    """dbt source freshness as a suite of its own (warn -> warning, error -> error)."""
    from orchestration.quality.freshness import evaluate
    from orchestration.quality.runner import ResultRow, SuiteOutcome

    t0 = time.perf_counter()
    results = evaluate(warehouse)
    now = datetime.now()
    rows = []
    for f in results:
        if f.status == "warn":
            severity = "warning"
        elif f.status == "pass":
            # A passing row carries the worst verdict its rule could give, so filters by severity stay meaningful.
            severity = "error" if f.rule.error_after else "warning"
        else:
            severity = "error"
        rows.append(ResultRow(
            run_id=run_id, suite="source_freshness", expectation=f"freshness.{f.rule.source}", rule="freshness",
            asset=f.rule.source, partition=None, success=f.status == "pass", severity=severity,
            unexpected_count=None, element_count=None, failing_keys=None, observed_value=f.message,
            description=f.rule.describe(), checked_at=now))
    return SuiteOutcome("source_freshness", "freshness", "dbt sources", ("raw", "load_ledger"), rows,
                        time.perf_counter() - t0), results


def run_checks(warehouse_path: Path | str, run_id: str, months: tuple[str, str] | None = None, *,
               suites: list[str] | None = None, data_docs: bool = True, validate_missing: bool = True) -> dict:
    """Validate, persist and report one run's data quality; returns the counts and the summary's path.

    Never raises on failed expectations: failures are results. The warehouse is opened read-only to validate,
    read-write once to append audit.dq_results, and every connection is closed before returning, so dbt or the
    loader can take the write lock right after. With `validate_missing=False` only what the run's checks
    validated is recorded, and the suites the run did not reach are listed as not run.
    """
    from importlib.metadata import version

    from orchestration.quality import data_docs as docs
    from orchestration.quality.runner import partition_label, persist, validate
    from orchestration.quality.suites import all_suites
    from orchestration.quality.summary_page import render

    t0 = time.perf_counter()
    warehouse = Path(warehouse_path).resolve()
    defs = [d for d in all_suites() if suites is None or d.name in suites]
    spooled = _spooled(warehouse, run_id)
    todo = [d for d in defs if d.name not in spooled]
    not_run = [] if validate_missing else [d.name for d in todo]
    fresh = validate(warehouse, todo, run_id, months) if todo and validate_missing else []
    by_name = {**spooled, **{o.suite: o for o in fresh}}
    outcomes = [by_name[d.name] for d in defs if d.name in by_name]
    fresh_outcome, fresh_results = freshness_outcome(warehouse, run_id) if suites is None else (None, None)
    if fresh_outcome is not None:
        outcomes.append(fresh_outcome)
    written = persist(warehouse, outcomes)
    # The results are in the warehouse: the spool has done its job (a retry must not append them twice).
    shutil.rmtree(dq_dir(warehouse) / SPOOL / _safe(run_id), ignore_errors=True)

    out_dir = dq_dir(warehouse)
    out_dir.mkdir(parents=True, exist_ok=True)
    site_index = out_dir / "data_docs" / "index.html"
    page = render(outcomes, run_id=run_id, warehouse=warehouse, months=partition_label(months),
                  freshness=fresh_results, data_docs=site_index if data_docs else None, out_dir=out_dir,
                  gx_version=version("great_expectations"), not_run=not_run)
    summary = out_dir / f"dq_summary_{_safe(run_id)}.html"
    summary.write_text(page, encoding="utf-8")
    latest = out_dir / "dq_summary_latest.html"
    tmp = out_dir / ".dq_summary_latest.html.tmp"
    shutil.copyfile(summary, tmp)
    tmp.replace(latest)
    site = None
    if data_docs:
        # Last: the secondary view must never cost the audit trail or the auditor's page.
        try:
            site = docs.build(outcomes, defs, run_id, out_dir / "data_docs")
        except Exception:  # noqa: BLE001
            log.warning("GX Data Docs could not be built for run %s", run_id, exc_info=True)

    rows = [r for o in outcomes for r in o.rows]
    errors = sum(r.is_error for r in rows)
    warnings = sum(r.is_warning for r in rows)
    return {
        "run_id": run_id,
        "suites": len(outcomes),
        "expectations": len(rows),
        "passed": sum(r.success for r in rows),
        "failed": errors + warnings,
        "errors": errors,
        "warnings": warnings,
        "findings": sum(r.is_finding for r in rows),
        "rows_written": written,
        "validated_in_run": sorted(spooled),
        "not_run": not_run,
        "summary_path": str(summary),
        "latest_path": str(latest),
        "data_docs_path": str(site) if site else None,
        "seconds": round(time.perf_counter() - t0, 2),
        "ok": errors == 0,
    }


def summary_line(result: dict) -> str:
    return (f"data-quality summary: {result['summary_path']} ({result['expectations']} expectations, "
            f"{result['failed']} failed, {result['findings']} findings)")
