"""`piramide run` end to end through the Dagster job, on a warehouse file with another name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow


def test_run_on_a_differently_named_warehouse(tmp_path):
    # The dbt manifest is parsed for the default file; the fixed catalogue alias makes any name work.
    wh = tmp_path / "elsewhere" / "warehouse-2021.duckdb"
    env = dict(os.environ, PIRAMIDE_WAREHOUSE=str(wh), PIRAMIDE_INBOX=str(tmp_path / "inbox"),
               DAGSTER_HOME=str(tmp_path / "dagster_home"))
    env.pop("PIRAMIDE_TARGET_SCALE", None)
    (tmp_path / "dagster_home").mkdir()
    piramide = Path(sys.executable).parent / "piramide"
    proc = subprocess.run([str(piramide), "run", "--scale", "0.002"], env=env, capture_output=True, text=True,
                          timeout=1200)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    lines = proc.stdout.strip().splitlines()
    # A console a person can read: stages, figures, paths; the libraries' chatter is in the log file.
    assert len(lines) <= 60, "\n".join(lines)
    assert not proc.stderr.strip(), proc.stderr[-3000:]
    assert "Stage timings" in out and "generate:" in out and "dbt build" in out and "load:" in out
    assert "PRODUZIONE_LORDA" in out and "VPI" in out
    log = wh.parent / "logs" / "piramide.log"
    assert f"log: {log}" in lines and "great_expectations" in log.read_text(encoding="utf-8")
    # The run ends with the month's HTML report, its path printed, and the dbt docs site beside it.
    report = wh.parent / "reports" / "report_2021-12.html"
    assert report.exists() and (wh.parent / "reports" / "report_latest.html").exists()
    assert lines[-1].startswith("report: ") and report.name in lines[-1]
    summary = next(line for line in lines if line.startswith("data-quality summary: "))
    assert "expectations" in summary and "findings" in summary
    assert (wh.parent / "reports" / "dq" / "dq_summary_latest.html").exists()
    assert (wh.parent / "reports" / "dbt_docs" / "static_index.html").exists()
    # The BI copy is published last: its latest data-quality results are those of the run that just finished.
    pub = duckdb.connect(str(wh.parent / "published" / wh.name), read_only=True)
    try:
        (bi_run,) = pub.execute("select run_id from audit.dq_results order by checked_at desc limit 1").fetchone()
    finally:
        pub.close()
    con = duckdb.connect(str(wh), read_only=True)
    try:
        (vpi,) = con.execute(
            "select score from marts.fct_value_pyramid where node_code = 'VPI' and structure_code = 'nazionale' "
            "and period_end = '2021-12-31'"
        ).fetchone()
        assert 50 <= vpi <= 150
        outcomes = dict(con.execute("select outcome, count(*) from audit.load_ledger group by 1").fetchall())
        (closing_run,) = con.execute("select run_id from audit.month_close order by closed_at desc limit 1").fetchone()
    finally:
        con.close()
    assert outcomes.get("rejected", 0) == 0 and outcomes["loaded"] > 100
    assert bi_run == closing_run
