"""The marts are guaranteed by dbt alone: breaking a mart the way the old mart suites looked for makes the dbt
tests fail. (The same tests pass on the real build: the session's sample is built with `dbt build`, which fails
on any failed test.)"""

# ruff: noqa: S608 - the SQL breaks a private test copy with constants of this module

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import run_dbt

pytestmark = pytest.mark.slow


def test_dbt_catches_a_score_out_of_range_a_national_sum_off_the_regions_and_wrong_weights(sample_copy):
    con = duckdb.connect(str(sample_copy.warehouse))
    try:
        con.execute("update marts.fct_kpi_scores set score = 151 where (period_end, structure_code, kpi_code) in "
                    "(select period_end, structure_code, kpi_code from marts.fct_kpi_scores where score is not null "
                    "order by all limit 2)")
        con.execute("update marts.fct_kpi_scores set numerator = numerator + 1000 where kpi_code = 'PRODUZIONE_LORDA' "
                    "and period_end = date '2021-06-30' and structure_code = 'nazionale'")
        con.execute("update marts.dim_kpi set weight = weight * 2 where node_code = 'PG'")
    finally:
        con.close()
    proc = run_dbt("test", "--select", "fct_kpi_scores", "dim_kpi", check=False)
    assert proc.returncode != 0
    results = json.loads((sample_copy.tmp / "dbt_target" / "run_results.json").read_text())["results"]
    failed = {r["unique_id"].split(".")[2]: r["failures"] for r in results if r["status"] == "fail"}
    score_range = next(k for k in failed if k.startswith("expression_is_true_fct_kpi_scores_score_between"))
    assert failed[score_range] == 2
    assert failed["assert_national_mart_rows_are_sums_of_regions"] == 1
    weights = next(k for k in failed if k.startswith("weights_sum_to_one_dim_kpi_parent_code"))
    assert failed[weights] == 1  # the VPI's children: SP 0.4 + PG 0.6 + PI 0.3
