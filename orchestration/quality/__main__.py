"""`python -m orchestration.quality`: re-run the data-quality checks on the configured warehouse, by hand.

For the runbook's "a failed check": after fixing the cause, validate again without a pipeline run. The warehouse
must not be open by a writer (it is opened read-only to validate, read-write once to append audit.dq_results).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime


def main(argv: list[str] | None = None) -> int:
    from orchestration.config import settings
    from orchestration.quality import run_checks, summary_line

    p = argparse.ArgumentParser(prog="python -m orchestration.quality", description=__doc__.splitlines()[0])
    p.add_argument("--run-id", default=None, help="the id recorded in audit.dq_results (default manual-<time>)")
    p.add_argument("--months", nargs=2, metavar=("FIRST", "LAST"), help="extract months to validate (YYYY-MM)")
    p.add_argument("--suite", action="append", help="only this suite (repeatable); skips freshness")
    p.add_argument("--no-data-docs", action="store_true", help="skip the GX Data Docs (the summary is always written)")
    a = p.parse_args(argv)
    run_id = a.run_id or f"manual-{datetime.now():%Y%m%dT%H%M%S}"
    res = run_checks(settings().warehouse, run_id, tuple(a.months) if a.months else None, suites=a.suite,
                     data_docs=not a.no_data_docs)
    print(f"{res['suites']} suites, {res['passed']} passed, {res['errors']} errors, {res['warnings']} warnings, "
          f"{res['findings']} findings in {res['seconds']:.1f} s")
    print(summary_line(res))
    return 0 if res["ok"] else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
