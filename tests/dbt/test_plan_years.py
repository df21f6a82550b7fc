"""The plan's three years end to end: a 2020-2023 sample, the plan's 2022-2023 rules from the seeds, and the
territorial targets of 2022 and 2023 supplied as an operator would (rows appended to kpi_targets, no code).

The budget fixture: every node the seeds give neither a fixed 2022/2023 value nor a rule for takes its 2021 target
again, a stand-in for the budget's figures (README, "Next year's targets are data")."""

# ruff: noqa: S608 - the SQL reads this module's constants and private test paths

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from orchestration.cli import main
from orchestration.config import SEEDS_DIR
from tests.conftest import run_dbt
from tests.helpers import query, scoped_env

pytestmark = pytest.mark.slow
SCALE = 0.005
YEARS = (2020, 2021, 2022, 2023)  # the plan years and the year before; 2021 is the base of the 2022 rules
F1_TARGET_2021 = 8_855_168_560.0  # seeds/kpi_targets.csv, L3456-3470

# The operator's file: kpi_targets' own columns, one row per node, structure and year.
BUDGET_TARGETS = """
    with t as (select * from read_csv('{seeds}/kpi_targets.csv', header = true, all_varchar = true)),
    r as (select * from read_csv('{seeds}/target_rules.csv', header = true, all_varchar = true)),
    y as (select unnest(['2022', '2023']) as year)
    select t.node_code, t.structure_code, y.year, t.target_value, 'budget ' || y.year as plan_line,
        'test fixture: the 2021 target again' as note
    from t cross join y
    where t.year = '2021'
        -- Project outputs are the plan's (seeds/project_leaf.csv), not the budget's.
        and t.node_code not in (select leaf_code from read_csv('{seeds}/project_leaf.csv', header = true))
        and not exists (select 1 from t as t2 where t2.node_code = t.node_code and t2.year = y.year)
        and not exists (select 1 from r where r.node_code = t.node_code and r.year = y.year)
    order by y.year, t.node_code, t.structure_code
"""


def write_budget_targets(path):
    con = duckdb.connect()
    try:
        con.execute(f"copy ({BUDGET_TARGETS.format(seeds=SEEDS_DIR)}) to '{path}' (header false)")
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def plan_years_build(tmp_path_factory):
    """Generate, load and build the three years once; the budget rows go into reference.kpi_targets, exactly the
    rows dbt seed would load had they been appended to seeds/kpi_targets.csv."""
    from orchestration.ingest import load_inbox
    from orchestration.synthetic import generate

    base = tmp_path_factory.mktemp("plan_years")
    budget = write_budget_targets(base / "targets_2022_2023.csv")
    inbox, wh = base / "inbox", base / "wh" / "piramide.duckdb"
    with scoped_env(PIRAMIDE_WAREHOUSE=str(wh), PIRAMIDE_INBOX=str(inbox),
                    PIRAMIDE_TEST_DBT_TARGET=str(base / "dbt_target")):
        generate(inbox, scale=SCALE, years=YEARS, seed=11)
        load_inbox(inbox)
        run_dbt("seed")
        con = duckdb.connect(str(wh))
        try:
            con.execute(f"insert into reference.kpi_targets by name select * from read_csv('{budget}', "
                        "header = false, names = ['node_code', 'structure_code', 'year', 'target_value', "
                        "'plan_line', 'note'])")
            # ... and, plan check passing for 2023, raises the last year whose targets are complete.
            con.execute("update reference.kpi_parameters set value = 2023 where parameter = 'targets_complete_through'")
        finally:
            con.close()
        run_dbt("build", "--exclude", "resource_type:seed", "test_type:unit")
    return type("Build", (), {"warehouse": wh, "budget": budget})


def test_plan_check_says_what_the_budget_must_add_and_then_passes(plan_years_build, tmp_path, capsys):
    assert main(["plan", "check", "--year", "2022"]) == 1
    out = capsys.readouterr().out
    assert "PRODUCTIVITY @ provincial 2022: 116 of 116 structures without a target" in out
    assert "IEEP.ENTRATE @ regional 2022: 23 of 23 structures without a target" in out
    # The operator appends the budget's rows to kpi_targets.csv and checks again: nothing is missing.
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    with (seeds / "kpi_targets.csv").open("a", encoding="utf-8") as fh:
        fh.write(plan_years_build.budget.read_text(encoding="utf-8"))
    for year in (2022, 2023):
        assert main(["plan", "check", "--year", str(year), "--seeds", str(seeds)]) == 0
        assert f"plan check {year} ({seeds}): 0 errors," in capsys.readouterr().out


def test_the_vpi_is_fully_covered_at_the_2022_and_2023_year_ends(plan_years_build):
    rows = query(plan_years_build.warehouse,
                 "select period_end, weight_coverage, score from marts.fct_value_pyramid "
                 "where structure_code = 'nazionale' and node_code = 'VPI' and period_end in (?, ?) order by 1",
                 [date(2022, 12, 31), date(2023, 12, 31)])
    assert [(r[0], r[1]) for r in rows] == [(date(2022, 12, 31), 1.0), (date(2023, 12, 31), 1.0)]
    assert all(r[2] is not None for r in rows)
    # The project outputs due 31.12.2022 and 31.12.2023 (seeds/project_leaf.csv) are scored in their years.
    projects = {y: {r[0] for r in query(
        plan_years_build.warehouse,
        "select kpi_code from marts.fct_kpi_scores where structure_code = 'nazionale' and period_end = ? "
        "and kpi_code similar to '[A-I][.]PT?[0-9]' and score is not null", [date(y, 12, 31)])} for y in (2022, 2023)}
    assert projects == {
        2022: {"B.P1", "D.P2", "D.P3", "F.P2", "F.P3", "F.P4", "G.P1", "G.P2", "H.P1", "H.P3", "I.P1", "I.P2"},
        2023: {"B.P1", "D.P2", "D.P3", "I.P1"}}
    # Every month-end of the two years, not only December (the period_status coverage test now reads 2023).
    assert query(plan_years_build.warehouse, "select count(*), min(vpi_weight_coverage) from marts.period_status "
                 "where year(month) in (2022, 2023)") == [(24, 1.0)]


def test_rule_targets_are_the_rule_on_the_previous_year_end(plan_years_build):
    scores = {(r[0], r[1].year): r[2:] for r in query(
        plan_years_build.warehouse,
        "select kpi_code, period_end, actual_value, target_value from marts.fct_kpi_scores "
        "where structure_code = 'nazionale' and month(period_end) = 12 and kpi_code in ('F.1', 'C.1', 'I.2')")}

    def actual(kpi, year):
        return scores[(kpi, year)][0]

    def target(kpi, year):
        return scores[(kpi, year)][1]

    # F.1 (L2335-2345): 1.02 x the larger of the previous target and the previous year-end actual. The month-end
    # target of a sample is in the sample's units (plan target x scale), so the rule reads max(T x scale, A).
    f1_2022 = 1.02 * max(F1_TARGET_2021 * SCALE, actual("F.1", 2021))
    assert target("F.1", 2022) == pytest.approx(f1_2022, rel=1e-12)
    assert target("F.1", 2023) == pytest.approx(1.02 * max(f1_2022, actual("F.1", 2022)), rel=1e-12)
    for year in (2022, 2023):
        # The smart-working share (C.1, L2174-2180): +2 % on the previous year-end share, relative.
        assert target("C.1", year) == pytest.approx(1.02 * actual("C.1", year - 1), rel=1e-12)
        # The followers (I.2, L2668-2676): +10 % on the previous year-end.
        assert target("I.2", year) == pytest.approx(1.10 * actual("I.2", year - 1), rel=1e-12)
    # The sample's followers grow the way the plan asks: each year-end within a few % of its rule target.
    assert 0.9 < actual("I.2", 2022) / target("I.2", 2022) < 1.1


def test_dim_kpi_target_says_how_each_target_was_obtained(plan_years_build):
    dim = {(r[0], r[1], r[2]): r[3:] for r in query(
        plan_years_build.warehouse,
        "select node_code, structure_code, year, plan_annual_target, annual_target, plan_line, target_source, "
        "target_method, rule_base_value from marts.dim_kpi_target "
        "where (structure_code = 'nazionale' and node_code in ('F.1', 'C.1', 'I.2', 'H.1')) "
        "or (structure_code = 'torino' and node_code in ('PRODUCTIVITY', 'IG_TOTAL'))")}
    actual = dict(query(plan_years_build.warehouse,
                        "select kpi_code, actual_value from marts.fct_kpi_scores where structure_code = 'nazionale' "
                        "and period_end = ? and kpi_code in ('F.1', 'C.1', 'I.2')", [date(2021, 12, 31)]))
    # C.1: the rule, its plan line and the base it was applied to (the 2021 year-end share).
    plan, scaled, line, source, method, base = dim[("C.1", "nazionale", 2022)]
    assert (line, source, method) == ("2174-2176", "rule: 1.02 x 2021 year-end actual", "rule")
    assert base == pytest.approx(actual["C.1"], rel=1e-12) and plan == pytest.approx(1.02 * base, rel=1e-12)
    assert scaled == plan  # a share is not scaled with the sample
    # F.1: the base is the larger of the 2021 target and the 2021 actual in plan units; the scores use it x scale.
    plan, scaled, line, source, method, base = dim[("F.1", "nazionale", 2022)]
    assert source == "rule: 1.02 x max(2021 target, 2021 year-end actual)"
    assert base == pytest.approx(max(F1_TARGET_2021, actual["F.1"] / SCALE), rel=1e-12)
    assert scaled == pytest.approx(plan * SCALE, rel=1e-12)
    assert dim[("I.2", "nazionale", 2023)][3:5] == ("rule: 1.1 x 2022 year-end actual", "rule")
    # A quality index (H.1, L2474-2480): +2 % then +1 % on its baseline, the index re-based to 100.
    assert dim[("H.1", "nazionale", 2022)] == (
        pytest.approx(102.0), pytest.approx(102.0), "2474-2476", "rule: 1.02 x baseline 100.0", "rule", 100.0)
    assert dim[("H.1", "nazionale", 2023)][0] == pytest.approx(101.0)
    # A budget row is a seed row with the budget's reference; a stock without a provincial row takes the nation's
    # (IG_TOTAL, the reported backlog index, seeded nationally only).
    assert dim[("PRODUCTIVITY", "torino", 2022)][2:6] == ("budget 2022", "seed", "seed", None)
    assert dim[("IG_TOTAL", "torino", 2022)][3:5] == ("national seed", "national fallback")
