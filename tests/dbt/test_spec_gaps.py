"""The five specification gaps of issue 15, item 6, on the session's generated sample (December 2021).

1. a reported KPI (kind `reported`: PRODUZIONE_LORDA, the PG copy of IG_TOTAL) is shown, never scored;
2. the Customer Care elementary parts carry their value in their own unit (days, %), their index beside it;
3. no pyramid row points to a parent that does not exist for its structure and month-end;
4. the budget variant of the quality indices has a reference for the nation, the median over the cost cluster;
5. the national-target fallback and the applicability are seed data that the SQL only reads.
"""

from __future__ import annotations

import csv
from datetime import date

import duckdb
import pytest

from orchestration.config import SEEDS_DIR
from tests.conftest import run_dbt

pytestmark = pytest.mark.slow
DEC = date(2021, 12, 31)


def query(path, sql, params=None, read_only=True):
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_reported_kpis_are_shown_but_never_scored(sample_build):
    rows = query(sample_build.warehouse,
                 "select kpi_code, actual_value, target_value, score, score_vs_budget from marts.fct_kpi_scores "
                 "where node_kind = 'reported' and structure_code = 'nazionale' and period_end = ?", [DEC])
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == {"PRODUZIONE_LORDA", "IG_TOTAL"}
    for code, (actual, target, score, score_vs_budget) in got.items():
        assert actual is not None and target is not None, code
        assert score is None and score_vs_budget is None, code
    # No reported row anywhere carries a score; the scored copy of the total backlog index (D.1) still does.
    assert query(sample_build.warehouse, "select count(*) from marts.fct_kpi_scores "
                                         "where node_kind = 'reported' and score is not null") == [(0,)]
    d1 = query(sample_build.warehouse, "select actual_value, score from marts.fct_kpi_scores "
                                       "where kpi_code = 'D.1' and structure_code = 'nazionale' and period_end = ?",
               [DEC])
    assert d1[0][0] == pytest.approx(got["IG_TOTAL"][0]) and d1[0][1] is not None


def test_customer_care_parts_are_in_their_own_units(sample_build):
    # The unit is dim_kpi's: a % part is 100 x numerator / denominator, a days part numerator / denominator.
    rows = query(sample_build.warehouse, """
        select s.kpi_code, k.unit, s.actual_value, s.numerator, s.denominator
        from marts.fct_kpi_scores as s inner join marts.dim_kpi as k on s.kpi_code = k.node_code
        where s.structure_code = 'nazionale' and s.period_end = ? and s.node_kind = 'part'
          and s.kpi_code like 'CUSTOMER\\_CARE.%' escape '\\' and k.unit in ('pct', 'days')""", [DEC])
    assert len(rows) == 13
    for code, unit, actual, num, den in rows:
        expected = (100.0 if unit == "pct" else 1.0) * num / den
        assert actual == pytest.approx(expected), (code, unit, actual, expected)
    # The index stands beside the value: 100 x (1 + p x (value - previous year's) / |previous year's|),
    # capped to [50, 150], recomputed here from the two values in their units.
    idx = query(sample_build.warehouse, """
        select c.quantity_code, c.actual_value, p.actual_value, k.polarity, c.actual_index
        from intermediate.int_kpi_actuals_contacts as c
        inner join intermediate.int_kpi_actuals_contacts as p
            on c.structure_code = p.structure_code and c.quantity_code = p.quantity_code
            and p.period_end = last_day(c.period_end - interval 1 year)
        inner join marts.dim_kpi as k on c.quantity_code = k.node_code
        where c.structure_code = 'nazionale' and c.period_end = ? and k.unit in ('pct', 'days')""", [DEC])
    assert len(idx) == 13
    for code, value, reference, polarity, index in idx:
        expected = min(150.0, max(50.0, 100.0 * (1 + polarity * (value - reference) / abs(reference))))
        assert index == pytest.approx(expected), code


def test_every_pyramid_row_has_its_parent(sample_build):
    orphans = query(sample_build.warehouse, """
        select c.structure_code, count(*) from marts.fct_value_pyramid as c
        where c.parent_code is not null and not exists (
            select 1 from marts.fct_value_pyramid as p
            where p.structure_code = c.structure_code and p.period_end = c.period_end and p.node_code = c.parent_code)
        group by all""")
    assert orphans == []
    # A central producer's scorecard is its subsidiarity leaf: PG -> PG_PROCESSI -> SUSSIDIARIETA, same score.
    rows = query(sample_build.warehouse, """
        select node_code, parent_code, score from marts.fct_value_pyramid
        where structure_code = 'eco' and period_end = ? order by node_level""", [DEC])
    assert [(r[0], r[1]) for r in rows] == [("PG", None), ("PG_PROCESSI", "PG"), ("SUSSIDIARIETA", "PG_PROCESSI")]
    assert rows[0][2] is not None and rows[0][2] == pytest.approx(rows[2][2])


def test_quality_budget_variant_exists_for_the_nation(sample_build):
    rows = query(sample_build.warehouse, """
        select kpi_code, score_vs_budget from marts.fct_kpi_scores
        where structure_code = 'nazionale' and period_end = ?
          and kpi_code in ('A.1', 'B.1', 'G.3', 'G.4', 'H.1', 'I.1', 'QUALITY_PROD', 'CUSTOMER_CARE')""", [DEC])
    assert len(rows) == 8
    assert [code for code, svb in rows if svb is None] == []


def test_budget_reference_is_the_median_of_the_cost_cluster(sample_build):
    # Recomputed from the elementary values a year before: every structure of the cluster (a production
    # structure takes its region's cluster), whatever its level; the nation takes every clustered structure.
    rows = query(sample_build.warehouse, """
        with clusters as (
            select s.structure_code, coalesce(s.cost_cluster, r.cost_cluster) as cost_cluster
            from reference.structures as s left join reference.structures as r
                on s.regional_entity_code = r.structure_code
        ),
        previous as (
            select c.quantity_code, k.cost_cluster, c.actual_value
            from intermediate.int_kpi_actuals_contacts as c inner join clusters as k using (structure_code)
            where c.period_end = last_day(?::date - interval 1 year) and c.actual_value is not null
              and k.cost_cluster is not null
        ),
        medians as (
            select quantity_code, cost_cluster, median(actual_value) as reference from previous
            group by grouping sets ((quantity_code, cost_cluster), (quantity_code))
        )
        select c.structure_code, c.quantity_code, c.actual_value, m.reference, w.polarity, c.budget_index
        from intermediate.int_kpi_actuals_contacts as c
        inner join clusters as k using (structure_code)
        inner join marts.dim_kpi as w on c.quantity_code = w.node_code
        inner join medians as m
            on c.quantity_code = m.quantity_code and k.cost_cluster is not distinct from m.cost_cluster
        where c.period_end = ? and w.unit in ('pct', 'days') and c.actual_value is not null
          and c.structure_code in ('nazionale', 'piemonte', 'alessandria', 'dcm_milano', 'fm_milano')""", [DEC, DEC])
    assert {r[0] for r in rows} == {"nazionale", "piemonte", "alessandria", "dcm_milano", "fm_milano"}
    for structure, code, value, reference, polarity, budget in rows:
        expected = min(150.0, max(50.0, 100.0 * (1 + polarity * (value - reference) / abs(reference))))
        assert budget == pytest.approx(expected), (structure, code)


def _seed(name):
    with (SEEDS_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_applicability_is_the_seed_for_every_node_and_level(sample_build):
    nodes = {r["node_code"] for r in _seed("kpi_nodes")}
    seeded = {(r["node_code"], r["level"]) for r in _seed("kpi_applicability")}
    levels = {"national", "regional", "provincial", "central"}
    assert seeded == {(n, lvl) for n in nodes for lvl in levels}
    model = query(sample_build.warehouse, "select node_code, level, applies, absent_without_target "
                                          "from intermediate.int_kpi_applicability")
    seed = query(sample_build.warehouse, "select node_code, level, applies, absent_without_target "
                                         "from reference.kpi_applicability")
    assert sorted(model) == sorted(seed)


def test_national_target_fallback_is_read_from_its_seed(sample_copy):
    # D.2 (ytd_ratio) and C.1 (stock) have national targets only: a provincial office takes them by the seed.
    national = {r["node_code"]: float(r["target_value"]) for r in _seed("kpi_targets")
                if r["structure_code"] == "nazionale" and r["year"] == "2021" and r["node_code"] in ("D.2", "C.1")}

    def office_targets():
        rows = query(sample_copy.warehouse, "select node_code, count(*), min(annual_target), max(annual_target) "
                                            "from intermediate.int_kpi_targets where structure_code = 'alessandria' "
                                            "and node_code in ('D.2', 'C.1') group by node_code")
        return {r[0]: r[1:] for r in rows}

    assert office_targets() == {code: (12, value, value) for code, value in national.items()}
    query(sample_copy.warehouse, "update reference.target_fallbacks set takes_national_target = false "
                                 "where period_basis = 'ytd_ratio'", read_only=False)
    run_dbt("run", "--select", "int_kpi_targets")
    assert office_targets() == {"C.1": (12, national["C.1"], national["C.1"])}
