"""run_checks end to end on the clean sample: results persisted, findings are not failures, the auditor's page is
self-contained and free of personal data, and the warehouse is writable again right after."""

from __future__ import annotations

import re
import subprocess
import sys

import duckdb
import pytest

from orchestration.contract.families import TAX_CODE_PATTERN

pytestmark = pytest.mark.slow


def test_run_checks_persists_reports_and_releases_the_lock(sample_copy):
    from orchestration.quality import run_checks, summary_line

    res = run_checks(sample_copy.warehouse, "run-test-1")

    # Findings (the plan's own anomalies) are reported, and they do not make the run fail.
    assert res["ok"] and res["errors"] == 0
    assert res["findings"] >= 8
    # 8 extract families, 6 plan suites and the sources' freshness; the marts are dbt's to test.
    assert res["suites"] == 15 and res["expectations"] > 150
    assert summary_line(res).startswith("data-quality summary: ")

    # The lock is free: a writer in another process (dbt, the loader) opens the file at once.
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
    assert subprocess.run([sys.executable, "-c", code, str(sample_copy.warehouse)]).returncode == 0

    con = duckdb.connect(str(sample_copy.warehouse), read_only=True)
    try:
        n, suites, findings, failed_errors = con.execute(
            "select count(*), count(distinct suite), count(*) filter (where not success and severity = 'finding'), "
            "count(*) filter (where not success and severity = 'error') "
            "from audit.dq_results where run_id = 'run-test-1'").fetchone()
        cols = [r[0] for r in con.execute("describe audit.dq_results").fetchall()]
        keys = [k for (k,) in con.execute(
            "select failing_keys from audit.dq_results where failing_keys is not null").fetchall()]
    finally:
        con.close()
    assert (n, suites, findings, failed_errors) == (res["expectations"], 15, res["findings"], 0)
    for c in ("run_id", "suite", "expectation", "asset", "partition", "success", "severity", "unexpected_count",
              "failing_keys", "observed_value", "checked_at"):
        assert c in cols
    assert keys and not any(re.search(TAX_CODE_PATTERN, k) for k in keys)

    page = open(res["summary_path"], encoding="utf-8").read()
    latest = open(res["latest_path"], encoding="utf-8").read()
    assert page == latest
    assert "http" not in page.lower()  # no CDN, no network: readable offline
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(TAX_CODE_PATTERN, page)
    for text in ("rossano_calabro", "REAL_ESTATE_DISPOSALS.UNITS", "8858423447", "basilicata", "valle_daosta"):
        assert text in page
    assert res["data_docs_path"] and open(res["data_docs_path"], encoding="utf-8").read()


def test_the_summary_page_lists_leaves_without_a_target_and_deliveries_loaded_with_a_warning(sample_copy):
    from orchestration.quality import run_checks

    con = duckdb.connect(str(sample_copy.warehouse))
    try:
        # As if the budget had not given SUSSIDIARIETA a target at the regional entities for June 2021.
        con.execute("update marts.fct_kpi_scores set target_value = null, score = null, dq_status = 'no_target' "
                    "where kpi_code = 'SUSSIDIARIETA' and period_end = date '2021-06-30' and structure_code in "
                    "(select structure_code from marts.dim_structure where level = 'regional')")
        (regions,) = con.execute("select count(*) from marts.fct_kpi_scores where dq_status = 'no_target' "
                                 "and period_end = date '2021-06-30' and node_kind in ('leaf', 'composite')").fetchone()
        # ... and as if the March costs had loaded far off the family's recent months.
        con.execute("update audit.load_ledger set warning = 'volume_anomaly', message = 'costs_2021-03: 10 rows' "
                    "where family = 'costs' and month = date '2021-03-01' and outcome in ('loaded', 'restated')")
    finally:
        con.close()
    res = run_checks(sample_copy.warehouse, "run-gaps", data_docs=False)
    page = open(res["summary_path"], encoding="utf-8").read()
    section = page.split("<h2>Leaves without a target</h2>", 1)[1].split("<h2>", 1)[0]
    # The plan's years only (2020 has actuals and no targets), and 2021 is complete but for the month we broke.
    assert regions > 0 and "<td>2020-" not in section
    assert section.count("<tr><td>") == 1
    assert f"<td>2021-06</td><td class=n>1</td><td class=n>{regions}</td><td>SUSSIDIARIETA</td>" in section
    warned = page.split("<h2>Deliveries loaded with a warning</h2>", 1)[1].split("<h2>", 1)[0]
    assert "costs_2021-03" in warned and "volume_anomaly" in warned
