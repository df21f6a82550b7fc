"""Cost, revenue, measure and milestone KPIs on a hand-made fixture, against hand-computed values.

The fixture reports one month-end, 2021-12-31 (practices opening file 2021-11, then 2021-12). Structures:
alessandria and asti (production structures of piemonte), piemonte's own regional office, and the central
dst_sede_virtuale (which counts in the nation only).
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.synthetic.reference import Reference
from tests.conftest import run_dbt
from tests.helpers import practice, write_csv

pytestmark = pytest.mark.slow

DEC = "2021-12-31"
MODELS = ("int_kpi_actuals_costs", "int_kpi_actuals_revenue", "int_kpi_actuals_measures", "int_kpi_actuals_milestones")
PRODUCT = "PENS_VECCHIAIA_ANTICIPATA"  # in the productivity scope


def cost(structure, month, nature, cls, amount, closing=False):
    return {"structure_code": structure, "month": month, "cost_nature": nature, "cost_class": cls,
            "amount_eur": amount, "is_closing": str(closing).lower()}


def rev(structure, month, item, amount):
    return {"structure_code": structure, "month": month, "item_code": item, "amount_eur": amount}


def measure(code, structure, period_end, value):
    return {"measure_code": code, "structure_code": structure, "period_end": period_end, "value": value,
            "source": "fixture"}


def report(project, as_of, completion):
    return {"project_id": project, "as_of": as_of, "completion": completion, "evidence": "fixture"}


def write_fixture(inbox):
    # Practices: only to make 2021-12 the reporting month and to give alessandria 2 points-bearing pieces.
    write_csv(inbox / "practices_2021-11.csv", "practices", [
        practice("P1", "2021-11-10", product=PRODUCT, changed="2021-11-30"),
        practice("P2", "2021-11-12", product=PRODUCT, changed="2021-11-30"),
    ])
    write_csv(inbox / "practices_2021-12.csv", "practices", [
        practice("P1", "2021-11-10", product=PRODUCT, defined="2021-12-03", changed="2021-12-03"),
        practice("P2", "2021-11-12", product=PRODUCT, defined="2021-12-06", changed="2021-12-06"),
    ])
    # Costs: January-October one row of 1,000.00 each at alessandria (10,000.00), then November and December.
    for m in range(1, 11):
        write_csv(inbox / f"costs_2021-{m:02d}.csv", "costs",
                  [cost("alessandria", f"2021-{m:02d}-01", "PERSONNEL_PRODUCTION", "direct_production", "1000.00")])
    write_csv(inbox / "costs_2021-11.csv", "costs", [
        cost("alessandria", "2021-11-01", "PERSONNEL_PRODUCTION", "direct_production", "2000.00"),
        cost("alessandria", "2021-11-01", "LITIGATION", "direct_production", "500.00"),
        cost("asti", "2021-11-01", "BUILDINGS_RUNNING", "direct_other", "300.00"),
        cost("asti", "2021-11-01", "CENTRAL_OVERHEAD", "allocated", "200.00"),
    ])
    write_csv(inbox / "costs_2021-12.csv", "costs", [
        cost("alessandria", "2021-12-01", "PERSONNEL_PRODUCTION", "direct_production", "2000.00"),
        cost("alessandria", "2021-12-01", "LITIGATION", "direct_production", "250.00"),
        # A closing entry releasing part of a litigation provision: negative, and it counts in December.
        cost("alessandria", "2021-12-01", "LITIGATION", "direct_production", "-50.00", closing=True),
        cost("piemonte", "2021-12-01", "PERSONNEL_SUPPORT", "direct_other", "400.00"),
        cost("asti", "2021-12-01", "REGIONAL_OVERHEAD", "allocated", "100.00"),
        cost("dst_sede_virtuale", "2021-12-01", "IT_SERVICES", "direct_production", "1000.00"),
    ])
    # Revenue: November and December only (so the year to date is flagged incomplete).
    write_csv(inbox / "revenue_2021-11.csv", "revenue", [
        rev("alessandria", "2021-11-01", "contrib_assessed_flow_mgmt", "10000.00"),
        rev("alessandria", "2021-11-01", "legal_interest_pension", "1000.00"),  # sign -1 in the seed
        rev("asti", "2021-11-01", "undue_benefits_pension", "3000.00"),
        rev("piemonte", "2021-11-01", "eca_assessed", "500.00"),
        rev("alessandria", "2021-11-01", "INSPECTION_COLLECTIONS", "700.00"),
    ])
    write_csv(inbox / "revenue_2021-12.csv", "revenue", [
        rev("alessandria", "2021-12-01", "contrib_assessed_flow_mgmt", "20000.00"),
        rev("asti", "2021-12-01", "legal_interest_income_support", "400.00"),  # sign -1
        rev("asti", "2021-12-01", "redemptions_consolidations", "2000.00"),
        rev("alessandria", "2021-12-01", "contribution_revenue_total", "99999.00"),  # a subtotal: ignored
        rev("alessandria", "2021-12-01", "INSPECTION_COLLECTIONS", "300.00"),
    ])
    # Measures: followers delivered in November only; disposals and works flows; a regional stock index.
    write_csv(inbox / "measures_2021-11.csv", "measures", [
        measure("SOCIAL_FOLLOWERS", "nazionale", "2021-11-30", 1000000),
        measure("DISPOSAL_UNITS", "piemonte", "2021-11-30", 2),
    ])
    write_csv(inbox / "measures_2021-12.csv", "measures", [
        measure("DISPOSAL_UNITS", "piemonte", "2021-12-31", 1),
        measure("DISPOSAL_UNITS", "nazionale", "2021-12-31", 3),
        measure("STANDARD_COST_INDEX", "piemonte", "2021-12-31", 101.5),
        measure("WORKS_DELIVERED", "nazionale", "2021-12-31", 5),
    ])
    # Milestones: E.P1 has four register records, E.P2 three (seed project_leaf).
    write_csv(inbox / "milestones_2020-12.csv", "milestones", [
        report("2021_AS4", "2020-12-31", 1.0),  # last year's output: ignored in 2021
    ])
    write_csv(inbox / "milestones_2021-11.csv", "milestones", [
        report("2021_AS14", "2021-11-26", 0.5),
        report("2021_AS4", "2021-11-30", 0.3),
    ])
    write_csv(inbox / "milestones_2021-12.csv", "milestones", [
        report("2021_AS14", "2021-12-31", 0.9),
        report("2021_AS33", "2021-12-20", 1.0),
        report("2021_AS48", "2021-12-15", 0.6),
        report("2021_AS20", "2021-12-31", 0.5),
        report("2021_AS25", "2021-12-10", 0.8),
        report("A.PT1", "2021-12-31", 0.4),
    ])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from orchestration.ingest import load_inbox

    base = tmp_path_factory.mktemp("finance")
    inbox, wh = base / "inbox", base / "wh" / "piramide.duckdb"
    inbox.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIRAMIDE_WAREHOUSE", str(wh))
        mp.setenv("PIRAMIDE_INBOX", str(inbox))
        mp.setenv("PIRAMIDE_TEST_DBT_TARGET", str(base / "dbt_target"))
        mp.delenv("PIRAMIDE_TARGET_SCALE", raising=False)
        mp.delenv("PIRAMIDE_SEEDS_DIR", raising=False)
        write_fixture(inbox)
        results = load_inbox(inbox)
        assert {r.outcome for r in results} == {"loaded"}, [(r.file, r.message) for r in results]
        assert sum(r.rows_rejected for r in results) == 0
        run_dbt("seed")
        run_dbt("build", "--select", *(f"+{m}" for m in MODELS), "--exclude", "resource_type:seed")
    return wh


@pytest.fixture(scope="module")
def actuals(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # The four models directly: int_kpi_actuals also needs every other family's models.
        cols = "structure_code, quantity_code, actual_value, numerator, denominator, dq_note"
        union = " union all ".join(
            f"select {cols} from intermediate.{m} where period_end = $p" for m in MODELS  # noqa: S608
        )
        rows = con.execute(union, {"p": DEC}).fetchall()
    finally:
        con.close()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_cost_kpis(actuals):
    # Piemonte = alessandria + asti + its own office, December year to date:
    #   alessandria 10,000 + 2,000 + 500 + 2,000 + 250 - 50 (closing) = 14,700   (all direct_production)
    #   asti 300 (direct_other) + 200 + 100 (allocated) = 600;  piemonte office 400 (direct_other)
    #   total 15,700; direct 14,700 + 300 + 400 = 15,400; direct production 14,700
    # Nation adds the central dst_sede_virtuale 1,000 (direct_production): total 16,700, direct 16,400.
    assert actuals[("piemonte", "DIRECT_COST_SHARE")][0] == pytest.approx(100 * 15_400 / 15_700, abs=1e-9)  # 98.089172
    assert actuals[("nazionale", "DIRECT_COST_SHARE")][0] == pytest.approx(100 * 16_400 / 16_700, abs=1e-9)  # 98.203593
    assert actuals[("nazionale", "DIRECT_COST_SHARE")][1:3] == pytest.approx((16_400, 16_700))
    assert actuals[("nazionale", "DIRECT_PROD_COST_SHARE")][0] == pytest.approx(100 * 15_700 / 16_700, abs=1e-9)
    assert actuals[("piemonte", "DIRECT_PROD_COST_SHARE")][0] == pytest.approx(100 * 14_700 / 15_700, abs=1e-9)
    # Central costs count in the nation only; a central structure has its own figure.
    assert actuals[("dst_sede_virtuale", "DIRECT_COST_SHARE")][0] == pytest.approx(100.0)
    # IMP_LITIGATION: 500 (Nov) + 250 (Dec) - 50 (December closing entry) = 700.00.
    assert actuals[("nazionale", "IMP_LITIGATION")][0] == pytest.approx(700.0, abs=1e-9)
    assert actuals[("alessandria", "IMP_LITIGATION")][0] == pytest.approx(700.0, abs=1e-9)
    # Every month of costs was delivered: no note.
    assert actuals[("nazionale", "IMP_LITIGATION")][3] is None


def test_revenue_kpis(actuals):
    # ENTRATE: 10,000 (alessandria, Nov) + 500 (piemonte office ECA, Nov) + 20,000 (alessandria, Dec) = 30,500;
    # the 99,999 subtotal line is not a leaf and does not count.
    assert actuals[("nazionale", "IEEP.ENTRATE")][0] == pytest.approx(30_500.0, abs=1e-9)
    assert actuals[("piemonte", "IEEP.ENTRATE")][0] == pytest.approx(30_500.0, abs=1e-9)
    assert actuals[("alessandria", "IEEP.ENTRATE")][0] == pytest.approx(30_000.0, abs=1e-9)
    # PRESTAZIONI: -1,000 (legal interest, subtracted) + 3,000 - 400 (legal interest) + 2,000 = 3,600.
    assert actuals[("nazionale", "IEEP.PRESTAZIONI")][0] == pytest.approx(3_600.0, abs=1e-9)
    assert actuals[("alessandria", "IEEP.PRESTAZIONI")][0] == pytest.approx(-1_000.0, abs=1e-9)
    assert actuals[("asti", "IEEP.PRESTAZIONI")][0] == pytest.approx(4_600.0, abs=1e-9)
    # IMP_INSPECTION: 700 + 300 = 1,000.
    assert actuals[("nazionale", "IMP_INSPECTION")][0] == pytest.approx(1_000.0, abs=1e-9)
    # Revenue was delivered for November and December only: January-October are flagged missing.
    assert actuals[("nazionale", "IEEP.ENTRATE")][3] == "incomplete_ytd"


def test_profitability_and_cost_per_point(actuals):
    # PROFITABILITY = IEEP / total costs: nation (30,500 + 3,600) / 16,700 = 2.041916; piemonte 34,100 / 15,700.
    assert actuals[("nazionale", "PROFITABILITY")][0] == pytest.approx(34_100 / 16_700, abs=1e-12)
    assert actuals[("piemonte", "PROFITABILITY")][0] == pytest.approx(34_100 / 15_700, abs=1e-12)
    assert actuals[("nazionale", "PROFITABILITY")][3] == "incomplete_ytd"  # from the revenue side
    # COST_PER_POINT: 2 pieces of a 4.0-hour product defined at alessandria = 8 points (coefficient from the
    # seed): nation 16,700 / 8 = 2,087.5 EUR per point; piemonte 15,700 / 8 = 1,962.5.
    coef = float(Reference().catalogue.set_index("product_code").loc[PRODUCT, "coefficient_hours"])
    assert actuals[("nazionale", "COST_PER_POINT")][0] == pytest.approx(16_700 / (2 * coef), abs=1e-9)
    assert actuals[("piemonte", "COST_PER_POINT")][0] == pytest.approx(15_700 / (2 * coef), abs=1e-9)
    assert actuals[("nazionale", "COST_PER_POINT")][2] == pytest.approx(2 * coef)


def test_measure_kpis(actuals):
    # A stock not delivered for December has no row: the leaf is missing, never carried forward.
    assert ("nazionale", "SOCIAL_FOLLOWERS") not in actuals
    assert actuals[("piemonte", "STANDARD_COST_INDEX")][0] == pytest.approx(101.5)
    assert ("nazionale", "STANDARD_COST_INDEX") not in actuals  # stocks are never rolled up
    # Disposals are a flow: piemonte 2 + 1 = 3; the nation adds its own remainder row: 3 + 3 = 6.
    assert actuals[("piemonte", "REAL_ESTATE_DISPOSALS.UNITS")][0] == pytest.approx(3.0)
    assert actuals[("nazionale", "REAL_ESTATE_DISPOSALS.UNITS")][0] == pytest.approx(6.0)
    assert actuals[("nazionale", "WORKS_DELIVERED")][:1] == pytest.approx((5.0,))
    assert actuals[("nazionale", "WORKS_DELIVERED")][3] == "incomplete_ytd"


def test_milestone_leaves(actuals):
    # E.P1: latest 2021 report per record: AS14 0.9 (Dec, not Nov's 0.5), AS33 1.0, AS4 0.3 (its 2020 report
    # of 1.0 is last year's output), AS48 0.6 -> (0.9 + 1.0 + 0.3 + 0.6) / 4 = 0.7.
    actual, numerator, denominator, note = actuals[("nazionale", "E.P1")]
    assert actual == pytest.approx(0.7, abs=1e-12)
    assert (numerator, denominator, note) == (pytest.approx(2.8), 4, None)
    # E.P2: two of its three records reported: (0.5 + 0.8) / 2 = 0.65, flagged partial.
    actual, numerator, denominator, note = actuals[("nazionale", "E.P2")]
    assert actual == pytest.approx(0.65, abs=1e-12)
    assert (denominator, note) == (2, "partial_records")
    # A transversal project is reported under its leaf code.
    assert actuals[("nazionale", "A.PT1")][0] == pytest.approx(0.4)
    # National only, and no leaf without a report.
    assert not any(q == "E.P1" and s != "nazionale" for s, q in actuals)
    assert ("nazionale", "B.P1") not in actuals
