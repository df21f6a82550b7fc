"""Properties of the whole pyramid on the session's generated sample (all eight families)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from tests.conftest import run_dbt
from tests.helpers import query

pytestmark = pytest.mark.slow
DEC = date(2021, 12, 31)


def pyramid(path, period=DEC):
    rows = query(path, "select node_code, score, weight_coverage from marts.fct_value_pyramid "
                       "where structure_code = 'nazionale' and period_end = ?", [period])
    return {code: (score, cov) for code, score, cov in rows}


def test_vpi_and_sub_indices_exist_for_december_2021(sample_build):
    p = pyramid(sample_build.warehouse)
    for node in ("VPI", "SP", "PG", "PI", "PG_PROCESSI", "PG_FINANZA", "PG_UTENZA", "PG_SVILUPPO",
                 *(f"OBJ_{x}" for x in "ABCDEFGHI"),
                 "IMP_CONTINUITY", "IMP_AVG_TIME", "IMP_LITIGATION", "IMP_REPUTATION", "IMP_INSPECTION"):
        assert node in p, node
    score, cov = p["VPI"]
    assert 50 <= score <= 150 and 0.5 < cov <= 1
    # Every regional entity and production structure has its own territorial scorecard (PG, no parent), and so
    # has each of the three central producers (its subsidiarity leaf under PG_PROCESSI).
    n = query(sample_build.warehouse, "select count(distinct structure_code) from marts.fct_value_pyramid "
                                      "where node_code = 'PG' and parent_code is null and period_end = ?", [DEC])
    assert n == [(23 + 116 + 3,)]


def test_2020_month_ends_carry_actuals_but_no_scores(sample_build):
    rows = query(sample_build.warehouse, "select count(*) filter (where actual_value is not null), "
                                         "count(*) filter (where score is not null) from marts.fct_kpi_scores "
                                         "where period_end = '2020-06-30' and node_kind = 'leaf'")
    with_actual, with_score = rows[0]
    assert with_actual > 100
    # The plan seeds a few 2020 targets only (C.3, E.1, F.1: docs/decisions.md §5).
    assert with_score <= 10


def test_project_group_weight_is_split_equally(sample_build):
    rows = query(sample_build.warehouse, "select node_code, weight from marts.dim_kpi where node_code like 'A.PT%'")
    assert sorted(rows) == [(f"A.PT{i}", pytest.approx(0.1)) for i in range(1, 5)]


def _rebuild_from_weights():
    run_dbt("build", "--select", "int_kpi_weights+", "--exclude", "resource_type:seed", "test_type:unit")


def test_changing_one_weight_moves_the_vpi_by_the_expected_amount(sample_copy):
    """Processi 40 % -> 30 % and Sviluppo 10 % -> 20 % in the PG weights (the plan's ambiguity, decisions §12.1)."""
    before = pyramid(sample_copy.warehouse)
    weights = dict(query(sample_copy.warehouse, "select node_code, weight from reference.kpi_nodes "
                                                "where parent_code = 'VPI'"))
    persp = {k: before[k][0] for k in ("PG_PROCESSI", "PG_FINANZA", "PG_UTENZA", "PG_SVILUPPO")}
    new_w = {"PG_PROCESSI": 0.3, "PG_FINANZA": 0.3, "PG_UTENZA": 0.2, "PG_SVILUPPO": 0.2}
    scored = {k: v for k, v in persp.items() if v is not None}
    pg_new = sum(new_w[k] * v for k, v in scored.items()) / sum(new_w[k] for k in scored)
    subs = {"SP": before["SP"][0], "PG": pg_new, "PI": before["PI"][0]}
    expected_vpi = sum(weights[k] * v for k, v in subs.items()) / sum(weights[k] for k in subs)

    con = duckdb.connect(str(sample_copy.warehouse))
    try:
        con.execute("update reference.perspective_weights set weight = 0.3 "
                    "where level = 'national' and node_code = 'PG_PROCESSI'")
        con.execute("update reference.perspective_weights set weight = 0.2 "
                    "where level = 'national' and node_code = 'PG_SVILUPPO'")
    finally:
        con.close()
    _rebuild_from_weights()
    after = pyramid(sample_copy.warehouse)
    assert after["PG"][0] == pytest.approx(pg_new, abs=1e-9)
    assert after["VPI"][0] == pytest.approx(expected_vpi, abs=1e-9)
    assert after["VPI"][0] != pytest.approx(before["VPI"][0], abs=1e-6)
    # Nothing under SP or PI moved.
    assert after["SP"] == pytest.approx(before["SP"])
    assert after["PI"] == pytest.approx(before["PI"])


def test_a_missing_costs_file_lowers_the_vpi_coverage(sample_copy):
    before = pyramid(sample_copy.warehouse)
    november_before = pyramid(sample_copy.warehouse, date(2021, 11, 30))["VPI"]
    con = duckdb.connect(str(sample_copy.warehouse))
    try:
        # As if costs_2021-12 had never been delivered.
        con.execute("delete from raw.costs where delivery_month = '2021-12-01'")
        con.execute("delete from audit.load_ledger where family = 'costs' and month = '2021-12-01'")
    finally:
        con.close()
    run_dbt("build", "--exclude", "resource_type:seed", "test_type:unit")
    after = pyramid(sample_copy.warehouse)
    assert after["VPI"][1] < before["VPI"][1]
    assert after["PG_FINANZA"][1] < before["PG_FINANZA"][1]
    missing = query(sample_copy.warehouse, "select kpi_code, dq_status from marts.fct_kpi_scores "
                                           "where structure_code = 'nazionale' and period_end = ? "
                                           "and kpi_code in ('PROFITABILITY', 'IMP_LITIGATION')", [DEC])
    assert {k: s for k, s in missing} == {"PROFITABILITY": "missing_actual", "IMP_LITIGATION": "missing_actual"}
    # November is untouched.
    assert pyramid(sample_copy.warehouse, date(2021, 11, 30))["VPI"] == pytest.approx(november_before)
