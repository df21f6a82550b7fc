"""Customer Care index and reputation impact from hand-made extracts, checked against hand computations.

Calendar facts used below (seeds/holidays_it.csv): 1 and 6 January, 25 and 26 December are holidays;
24 and 31 December are working days. Working days between two dates count (opening day, response day].
Channel standards (seeds/channel_standards.csv): LINEA_INPS 2, CASSETTO_AZIENDE 5 working days.
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.ingest import load_inbox
from tests.conftest import run_dbt
from tests.helpers import practice, scoped_env, tax_code, write_csv

pytestmark = pytest.mark.slow

SELECT = ["--select", "+int_kpi_actuals_contacts", "+int_kpi_actuals_survey", "--indirect-selection", "cautious"]


def contact(cid, opened, response=None, closed=None, changed=None, channel="LINEA_INPS", structure="alessandria"):
    status = "closed" if closed else ("answered" if response else "open")
    return {
        "contact_id": cid,
        "structure_code": structure,
        "channel_code": channel,
        "user_type": "citizen",
        "opened_at": opened,
        "first_response_at": response,
        "closed_at": closed,
        "status": status,
        "changed_on": changed or (closed or response or opened)[:10],
        "requester_tax_code": tax_code(),
    }


def survey(rid, wave, score):
    return {"response_id": rid, "wave": wave, "channel_code": None, "overall_score": score}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):

    base = tmp_path_factory.mktemp("customer_care")
    inbox = base / "inbox"
    with scoped_env(PIRAMIDE_WAREHOUSE=str(base / "wh" / "piramide.duckdb"), PIRAMIDE_INBOX=str(inbox),
                    PIRAMIDE_TEST_DBT_TARGET=str(base / "dbt_target"), PIRAMIDE_TARGET_SCALE=None):
        # Practices only set the reporting month-ends: January 2020 to December 2021.
        write_csv(inbox / "practices_2019-12.csv", "practices", [practice("P1", "2019-11-04", changed="2019-12-31")])
        write_csv(inbox / "practices_2021-12.csv", "practices", [practice("P2", "2021-12-01")])

        c = contact
        files = {
            # Opening: a 2019 contact (feeds only the 2019 reference of 2020).
            "2019-12": [c("Z0", "2019-11-04 09:00:00", "2019-11-05 10:00:00", "2019-11-05 10:00:00",
                          changed="2019-12-31")],
            "2020-03": [
                c("A1", "2020-03-02 09:00:00", "2020-03-03 10:00:00", "2020-03-03 10:00:00"),  # 1 wd, first
                c("A2", "2020-03-05 09:00:00", "2020-03-11 10:00:00", "2020-03-12 10:00:00"),  # 4 wd
            ],
            "2020-06": [
                c("A5", "2020-06-15 09:00:00", "2020-06-16 10:00:00", "2020-06-18 10:00:00"),  # 1 wd
                c("C1", "2020-06-10 09:00:00", "2020-06-10 15:00:00", "2020-06-10 15:00:00",
                  channel="CASSETTO_AZIENDE"),  # 0 wd, first
            ],
            "2020-09": [c("D1", "2020-09-07 09:00:00", "2020-09-07 11:00:00", "2020-09-07 11:00:00",
                          structure="asti")],  # 0 wd, first
            "2020-12": [c("A3", "2020-12-30 09:00:00"), c("A4", "2020-12-24 09:00:00")],
            "2021-01": [
                c("A3", "2020-12-30 09:00:00", "2021-01-04 10:00:00", "2021-01-04 10:00:00"),  # 2 wd, first
                c("A4", "2020-12-24 09:00:00", "2021-01-04 11:00:00", "2021-01-08 10:00:00"),  # 5 wd
            ],
            "2021-03": [
                c("B1", "2021-03-01 09:00:00", "2021-03-02 09:30:00", "2021-03-02 09:30:00"),  # 1 wd, first
                c("B2", "2021-03-04 09:00:00", "2021-03-08 11:00:00", "2021-03-08 11:00:00"),  # 2 wd, first
            ],
            "2021-06": [c("C2", "2021-06-09 09:00:00", "2021-06-11 10:00:00", "2021-06-15 10:00:00",
                          channel="CASSETTO_AZIENDE")],  # 2 wd
            "2021-12": [c("B3", "2021-12-29 09:00:00"), c("B4", "2021-12-20 09:00:00"), c("B5", "2021-12-27 09:00:00")],
        }
        for month, rows in files.items():
            write_csv(inbox / f"contacts_{month}.csv", "contacts", rows)
        write_csv(inbox / "survey_2019-12.csv", "survey", [survey("S1", 2019, 2), survey("S2", 2019, 3)])
        write_csv(inbox / "survey_2020-06.csv", "survey",
                  [survey("T1", 2020, 3), survey("T2", 2020, 4), survey("T3", 2020, 2)])
        write_csv(inbox / "survey_2021-10.csv", "survey", [survey("U1", 2021, 4), survey("U2", 2021, 5)])
        results = load_inbox(inbox)
        assert {r.outcome for r in results} == {"loaded"} and sum(r.rows_rejected for r in results) == 0
        run_dbt("build", *SELECT)
        yield base / "wh" / "piramide.duckdb"


def rows(wh, sql, params=None):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def actuals(wh, structure, period="2021-12-31"):
    return {
        r[0]: r[1:]
        for r in rows(wh, "select quantity_code, numerator, denominator, actual_index, budget_index, dq_note, "
                          "actual_value "
                          "from intermediate.int_kpi_actuals_contacts where structure_code = ? and period_end = ?",
                      [structure, period])
    }


def close(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def check(got, num, den, idx, budget, note=None):
    assert close(got[0], num) and close(got[1], den) and close(got[2], idx) and close(got[3], budget), got
    assert got[4] == note, got


def test_elementary_indices_of_one_structure(warehouse):
    a = actuals(warehouse, "alessandria")
    # LINEA_INPS answered in 2021: A3 2 wd, A4 5 wd (24 Dec -> 4 Jan: 28-31 Dec and 4 Jan), B1 1, B2 2.
    # Within 2 wd: 3 of 4 = 75 %; in 2020 (A1 1, A2 4, A5 1) 2 of 3 = 66.666667 %.
    # Index 100 * (1 + (75 - 66.666667) / 66.666667) = 112.5. Budget: median of cluster D's structures in 2020,
    # whatever their level (alessandria 66.666667, asti 100: D1 same day, piemonte pooled 3 of 4 = 75) = 75:
    # 100 * (1 + (75 - 75) / 75) = 100.
    check(a["CUSTOMER_CARE.LINEA_INPS.WITHIN_STANDARD"], 3, 4, 112.5, 100.0)
    # Mean working days 10 / 4 = 2.5 against 6 / 3 = 2 (lower is better): 100 * (1 - 0.5 / 2) = 75.
    # Budget: median(2, asti 0, piemonte 6 / 4 = 1.5) = 1.5, 100 * (1 - 1 / 1.5) = 33.3, capped at 50.
    check(a["CUSTOMER_CARE.LINEA_INPS.FIRST_RESPONSE_DAYS"], 10, 4, 75.0, 50.0)
    # The parts keep their value in their own unit beside the index: 75 %, 2.5 working days.
    assert close(a["CUSTOMER_CARE.LINEA_INPS.WITHIN_STANDARD"][5], 75.0)
    assert close(a["CUSTOMER_CARE.LINEA_INPS.FIRST_RESPONSE_DAYS"][5], 2.5)
    # Unanswered at 31 Dec 2021: B3 (2 wd old), B4 (9), B5 (4); beyond 2 wd: 2 of 3 = 66.666667 %.
    # At 31 Dec 2020: A3 (1 wd old) and A4 (4 wd old, beyond): 50 %. 100 * (1 - 16.666667 / 50) = 66.666667;
    # budget: asti had nothing open, so the median is alessandria's and piemonte's 50 %: the same 66.666667.
    check(a["CUSTOMER_CARE.LINEA_INPS.OPEN_OVER_STANDARD"], 2, 3, 200 / 3, 200 / 3)
    assert close(a["CUSTOMER_CARE.LINEA_INPS.OPEN_OVER_STANDARD"][5], 200 / 3)
    # LINEA_INPS channel: 0.5 * 112.5 + 0.25 * 75 + 0.25 * 66.666667 = 91.666667; budget
    # 0.5 * 100 + 0.25 * 50 + 0.25 * 66.666667 = 79.166667.
    check(a["CUSTOMER_CARE.LINEA_INPS"], 275 / 3, 1.0, 275 / 3, 79.1666666667)
    # CASSETTO_AZIENDE: C2 answered in 2 wd (within 5) against C1 in 2020 (0 wd, within): 100 % vs 100 % = 100.
    check(a["CUSTOMER_CARE.CASSETTO_AZIENDE.WITHIN_STANDARD"], 1, 1, 100.0, 100.0)
    # 2 working days against a reference of 0 days: no index (never a division error).
    check(a["CUSTOMER_CARE.CASSETTO_AZIENDE.FIRST_RESPONSE_DAYS"], 2, 1, None, None, "zero_reference")
    assert close(a["CUSTOMER_CARE.CASSETTO_AZIENDE.FIRST_RESPONSE_DAYS"][5], 2.0)
    # Nothing open at either year end: no value.
    check(a["CUSTOMER_CARE.CASSETTO_AZIENDE.OPEN_OVER_STANDARD"], 0, 0, None, None, "no_data")
    # The channel index renormalises over its one indexed component: 0.5 * 100 / 0.5 = 100.
    check(a["CUSTOMER_CARE.CASSETTO_AZIENDE"], 50, 0.5, 100.0, 100.0, "partial")
    # Closed at first response, all channels: 2021 A3, B1, B2 of A3, A4, B1, B2, C2 = 60 %; 2020 A1, C1 of
    # A1, A2, A5, C1 = 50 %: 100 * (1 + 10 / 50) = 120. Budget: median(50, asti 100, piemonte 3 of 5 = 60) = 60:
    # 100 * (1 + 0 / 60) = 100.
    check(a["CUSTOMER_CARE.FIRST_RESPONSE"], 3, 5, 120.0, 100.0)
    assert close(a["CUSTOMER_CARE.FIRST_RESPONSE"][5], 60.0)
    # CUSTOMER_CARE = 0.9 * mean(91.666667, 100) + 0.1 * 120 = 0.9 * 95.833333 + 12 = 98.25;
    # budget 0.9 * mean(79.166667, 100) + 0.1 * 100 = 0.9 * 89.583333 + 10 = 90.625.
    check(a["CUSTOMER_CARE"], 98.25, 1.0, 98.25, 90.625, "partial")
    # Channels without any contact have no rows at all.
    assert not any(k.startswith("CUSTOMER_CARE.AGENDA") for k in a)


def test_regional_and_national_values_pool_counts(warehouse):
    for structure in ("piemonte", "nazionale"):
        a = actuals(warehouse, structure)
        # Pooled 2020: A1, A2, A5 and asti's D1: 3 of 4 within (75 %), 6 / 4 = 1.5 days; 2021 as alessandria.
        # 75 % vs 75 % = 100; 2.5 vs 1.5 days: 100 * (1 - 1 / 1.5) = 33.3, capped at 50. The budget reference is
        # cluster D's median (75 %, 1.5 days, above); the nation's is every clustered structure's: the same three.
        check(a["CUSTOMER_CARE.LINEA_INPS.WITHIN_STANDARD"], 3, 4, 100.0, 100.0)
        check(a["CUSTOMER_CARE.LINEA_INPS.FIRST_RESPONSE_DAYS"], 10, 4, 50.0, 50.0)
        # First response: 60 % against 2020's pooled 3 of 5 (A1, C1, D1) = 60 %: 100.
        assert close(a["CUSTOMER_CARE.FIRST_RESPONSE"][2], 100.0)


def test_earlier_month_ends_and_zero_reference_early_in_the_year(warehouse):
    a = actuals(warehouse, "alessandria", "2021-03-31")
    # Year to date at March 2021: A3, A4, B1, B2 (3 of 4 within) against March 2020: A1, A2 (1 of 2):
    # 100 * (1 + (75 - 50) / 50) = 150 (exactly the cap).
    check(a["CUSTOMER_CARE.LINEA_INPS.WITHIN_STANDARD"], 3, 4, 150.0, 150.0)
    # Nothing open at 31 March 2021 nor 2020.
    check(a["CUSTOMER_CARE.LINEA_INPS.OPEN_OVER_STANDARD"], 0, 0, None, None, "no_data")
    # At 31 December 2020 the reference (31 Dec 2019) had nothing open: no index, 'no_data' a year before.
    d = actuals(warehouse, "alessandria", "2020-12-31")
    check(d["CUSTOMER_CARE.LINEA_INPS.OPEN_OVER_STANDARD"], 1, 2, None, None, "no_reference")


def test_reputation_uses_the_latest_delivered_wave_and_flags_stale(warehouse):
    got = rows(warehouse, "select period_end::varchar, structure_code, numerator, denominator, actual_value, dq_note "
                          "from intermediate.int_kpi_actuals_survey order by period_end")
    assert len(got) == 24 and {g[1] for g in got} == {"nazionale"}
    by_month = {g[0][:7]: (g[2], g[3], g[4], g[5]) for g in got}
    # January-May 2020: only the 2019 wave (2, 3): 2.5, stale.
    for m in ("2020-01", "2020-05"):
        assert by_month[m] == (5, 2, 2.5, "stale")
    # June 2020: the 2020 wave (3, 4, 2) arrives: 3.0, current.
    assert by_month["2020-06"] == (9, 3, 3.0, None) and by_month["2020-12"] == (9, 3, 3.0, None)
    # January-September 2021: still the 2020 wave, now the previous year's: stale.
    assert by_month["2021-01"] == (9, 3, 3.0, "stale") and by_month["2021-09"] == (9, 3, 3.0, "stale")
    # October 2021: the late 2021 wave (4, 5): 4.5.
    assert by_month["2021-10"] == (9, 2, 4.5, None) and by_month["2021-12"] == (9, 2, 4.5, None)
