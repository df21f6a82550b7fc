"""Data-quality checks: Great Expectations suites on DuckDB (suites, runner), their audit trail and the
auditor's summary page (results, summary_page)."""

from orchestration.quality.results import SPOOL, dq_dir, run_checks, spool, summary_line

__all__ = ["SPOOL", "dq_dir", "run_checks", "spool", "summary_line"]
