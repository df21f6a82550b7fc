"""A hand-computed fixture through the whole stack: loader, staging, intermediate, marts.

Twelve practices at Alessandria over an opening file (2020-12) and three delivery months, March restated,
two catalogue products: PENS_SUPERSTITI (2.5 h, backlog group PSI) and RVPA_PUBBLICI (0.7 h, GCAI), both in
the productivity scope. Latest states after the March restatement:

    id   product  received    defined     outcome
    X1   A        2020-03-10  2020-05-01  granted    (opening file; received more than 12 months before March)
    X2   A        2020-11-20  2021-01-15  granted
    X3   B        2020-12-05  2021-02-10  other
    X4   B        2020-06-15  2020-07-01  rejected   (opening file)
    X5   A        2021-01-10  2021-03-05  granted
    X6   B        2021-01-20  2021-01-28  granted
    X7   A        2021-02-03  2021-02-27  granted    (definition late-reported in the restated March file)
    X8   B        2021-02-12  2021-02-20  cancelled
    X9   B        2021-03-01  2021-03-25  granted    (open in the first March file, defined in the restatement)
    X10  A        2021-03-15  open
    X11  A        2021-02-25  open                   (first reported in the restated March file)
    X12  B        2021-03-20  open                   (only in the restatement)

At 2021-03-31 (hand computation):
  backlog points       = X10 + X11 (2 x 2.5) + X12 (0.7)                                   = 5.7
  inflow 2020-04..2021-03 (cancelled excluded): A: X2 X5 X7 X10 X11 = 12.5; B: X3 X4 X6 X9 X12 = 3.5 -> 16.0
  IG_TOTAL = 5.7 / 16 * 360 = 128.25;  IG_PSI = 5 / 12.5 * 360 = 144;  IG_GCAI = 0.7 / 3.5 * 360 = 72
  OUTFLOW  = defined in 2021 (X2 X3 X5 X6 X7 X9 = 6) / received in 2021, cancelled excluded
             (X5 X6 X7 X9 X10 X11 X12 = 7) = 0.857142857...
  PRODUCTIVITY = points defined in 2021 (3 x 2.5 + 3 x 0.7 = 9.6) / production FTE-months (1 + 1 + 1) = 3.2
  STAFF_PROD_SHARE = 100 * 3 / (3 + 3 x 0.25 support) = 80
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from orchestration.ingest import load_inbox
from tests.conftest import run_dbt
from tests.helpers import practice, scoped_env, staff_row, write_csv

A, B = "PENS_SUPERSTITI", "RVPA_PUBBLICI"
SUB_A = "AP_GESTIONE_PRIVATA"

pytestmark = pytest.mark.slow


def p(pid, product, received, defined=None, outcome=None, changed=None):
    return practice(pid, received, product=product, defined=defined, outcome=outcome, changed=changed)


def staff(month):
    return [
        staff_row("alessandria", month, SUB_A, "production", 1.0),
        staff_row("alessandria", month, "SUPPORT", "support", 0.25),
    ]


@pytest.fixture(scope="module")
def fixture_warehouse(tmp_path_factory):

    base = tmp_path_factory.mktemp("fixture")
    inbox = base / "inbox"
    with scoped_env(PIRAMIDE_WAREHOUSE=str(base / "wh" / "piramide.duckdb"), PIRAMIDE_INBOX=str(inbox),
                    PIRAMIDE_TEST_DBT_TARGET=str(base / "dbt_target")):
        write_csv(inbox / "practices_2020-12.csv", "practices", [
            p("X1", A, "2020-03-10", "2020-05-01", changed="2020-12-31"),
            p("X2", A, "2020-11-20", changed="2020-12-31"),
            p("X3", B, "2020-12-05", changed="2020-12-31"),
            p("X4", B, "2020-06-15", "2020-07-01", "rejected", changed="2020-12-31"),
        ])
        write_csv(inbox / "practices_2021-01.csv", "practices", [
            p("X2", A, "2020-11-20", "2021-01-15"),
            p("X5", A, "2021-01-10"),
            p("X6", B, "2021-01-20", "2021-01-28"),
        ])
        write_csv(inbox / "practices_2021-02.csv", "practices", [
            p("X3", B, "2020-12-05", "2021-02-10", "other"),
            p("X7", A, "2021-02-03"),
            p("X8", B, "2021-02-12", "2021-02-20", "cancelled"),
        ])
        march_v1 = [p("X5", A, "2021-01-10", "2021-03-05"), p("X9", B, "2021-03-01"), p("X10", A, "2021-03-15")]
        write_csv(inbox / "practices_2021-03.csv", "practices", march_v1)
        for m in ("2021-01-01", "2021-02-01", "2021-03-01"):
            write_csv(inbox / f"staff_{m[:7]}.csv", "staff", staff(m))
        first = load_inbox(inbox)
        # The restated March: X9 defined, X7's February definition and X11's February receipt reported late.
        write_csv(inbox / "practices_2021-03.csv", "practices", [
            p("X5", A, "2021-01-10", "2021-03-05"),
            p("X9", B, "2021-03-01", "2021-03-25"),
            p("X10", A, "2021-03-15"),
            p("X7", A, "2021-02-03", "2021-02-27", changed="2021-03-02"),
            p("X11", A, "2021-02-25", changed="2021-03-03"),
            p("X12", B, "2021-03-20"),
        ])
        second = load_inbox(inbox)
        run_dbt("build", "--exclude", "test_type:unit")
        yield type("F", (), {"warehouse": base / "wh" / "piramide.duckdb", "first": first, "second": second})


def kpi(fx, code, structure="alessandria", period=date(2021, 3, 31)):
    con = duckdb.connect(str(fx.warehouse), read_only=True)
    try:
        return con.execute(
            "select actual_value, numerator, denominator from marts.fct_kpi_scores "
            "where kpi_code = ? and structure_code = ? and period_end = ?",
            [code, structure, period],
        ).fetchone()
    finally:
        con.close()


def test_loads_and_restatement(fixture_warehouse):
    assert [r.outcome for r in fixture_warehouse.first] == ["loaded"] * 7
    (restated,) = fixture_warehouse.second
    assert restated.outcome == "restated"
    assert restated.min_event_month == date(2021, 2, 1)


@pytest.mark.parametrize("structure", ["alessandria", "piemonte", "nazionale"])
def test_backlog_indices(fixture_warehouse, structure):
    assert kpi(fixture_warehouse, "IG_TOTAL", structure) == pytest.approx((128.25, 5.7, 16.0))
    assert kpi(fixture_warehouse, "IG_PSI", structure) == pytest.approx((144.0, 5.0, 12.5))
    assert kpi(fixture_warehouse, "IG_GCAI", structure) == pytest.approx((72.0, 0.7, 3.5))


def test_outflow_and_productivity(fixture_warehouse):
    assert kpi(fixture_warehouse, "OUTFLOW") == pytest.approx((6 / 7, 6, 7))
    assert kpi(fixture_warehouse, "PRODUCTIVITY") == pytest.approx((3.2, 9.6, 3.0))
    assert kpi(fixture_warehouse, "STAFF_PROD_SHARE") == pytest.approx((80.0, 3.0, 3.75))
    # January alone: X2 and X6 defined (2.5 + 0.7 = 3.2 points) over 1 FTE-month; received X5, X6.
    assert kpi(fixture_warehouse, "PRODUCTIVITY", period=date(2021, 1, 31)) == pytest.approx((3.2, 3.2, 1.0))
    assert kpi(fixture_warehouse, "OUTFLOW", period=date(2021, 1, 31)) == pytest.approx((1.0, 2, 2))


def test_superseded_rows_stay_in_raw(fixture_warehouse):
    con = duckdb.connect(str(fixture_warehouse.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select d.is_current, count(*) from raw.practices r join audit.deliveries d using (delivery_id) "
            "where r.delivery_month = '2021-03-01' group by 1 order by 1"
        ).fetchall()
        assert rows == [(False, 3), (True, 6)]
        # The staging model reads the current state only: X9 defined on 25 March.
        assert con.execute("select defined_on from staging.stg_practices where practice_id = 'X9'").fetchone() \
            == (date(2021, 3, 25),)
    finally:
        con.close()
