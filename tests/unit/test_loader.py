"""The loader's contract: rejections, quarantine, ledger, restatements, pseudonymisation."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest

from orchestration.ingest import load_file, load_inbox
from tests.helpers import practice, write_csv

TAX_RE = r"[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z]"


def q(env, sql, params=None):
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def opening(env):
    rows = [
        practice("P1", "2020-11-10", changed="2020-12-31"),
        practice("P2", "2020-12-01", defined="2020-12-20", changed="2020-12-31"),
    ]
    return write_csv(env.inbox / "practices_2020-12.csv", "practices", rows)


def test_missing_column_rejected_whole_naming_file_and_column(env):
    opening(env)
    load_inbox(env.inbox)
    cols = [c for c in ("practice_id", "structure_code", "producing_structure_code", "product_code", "received_on",
                        "entitlement_on", "defined_on", "outcome", "changed_on", "project_tag", "review_flag",
                        "applicant_tax_code")
            if c != "product_code"]
    path = write_csv(env.inbox / "practices_2021-01.csv", "practices",
                     [practice("P3", "2021-01-05")], columns=cols)
    res = load_file(path)
    assert res.outcome == "rejected"
    assert "practices_2021-01.csv" in res.message and "product_code" in res.message
    assert "missing_column" in res.message
    # Nothing from the rejected file landed; the earlier delivery is intact.
    assert q(env, "select count(*) from raw.practices")[0][0] == 2
    assert q(env, "select outcome from audit.load_ledger order by delivery_id") == [("loaded",), ("rejected",)]


def test_unknown_structure_quarantined_with_rule_and_row(env):
    opening(env)
    rows = [
        practice("P3", "2021-01-05", changed="2021-01-05"),
        practice("P4", "2021-01-06", structure="atlantide", producer="alessandria", changed="2021-01-06"),
        practice("P5", "2021-01-07", changed="2021-01-07"),
    ]
    write_csv(env.inbox / "practices_2021-01.csv", "practices", rows)
    results = load_inbox(env.inbox)
    jan = results[-1]
    assert (jan.outcome, jan.rows_read, jan.rows_accepted, jan.rows_rejected) == ("loaded", 3, 2, 1)
    quarantined = q(env, "select file, row_number, column_name, rule_id, value from audit.quarantine")
    assert quarantined == [("practices_2021-01.csv", 2, "structure_code", "unknown_code", "atlantide")]
    assert sorted(r[0] for r in q(env, "select practice_id from raw.practices where delivery_month = '2021-01-01'")) \
        == ["P3", "P5"]


def test_identical_redelivery_is_a_noop(env):
    path = opening(env)
    first = load_file(path)
    before = q(env, "select * from raw.practices order by _row")
    again = load_file(path)
    assert first.outcome == "loaded" and again.outcome == "unchanged"
    assert q(env, "select count(*) from audit.load_ledger")[0][0] == 2
    assert q(env, "select * from raw.practices order by _row") == before
    # The inbox scan does not even attempt a file it has seen with the same checksum.
    assert load_inbox(env.inbox) == []


def test_restatement_supersedes_month_and_keeps_history(env):
    opening(env)
    write_csv(env.inbox / "practices_2021-01.csv", "practices", [practice("P3", "2021-01-05")])
    write_csv(env.inbox / "practices_2021-02.csv", "practices", [practice("P4", "2021-02-03")])
    write_csv(env.inbox / "practices_2021-03.csv", "practices", [practice("P5", "2021-03-02")])
    load_inbox(env.inbox)
    # The re-exported March now also reports P3's definition on 27 January (late-reported event).
    write_csv(
        env.inbox / "practices_2021-03.csv",
        "practices",
        [
            practice("P5", "2021-03-02"),
            practice("P3", "2021-01-05", defined="2021-01-27", changed="2021-03-01"),
        ],
    )
    (res,) = load_inbox(env.inbox)
    assert res.outcome == "restated"
    assert res.min_event_month == date(2021, 1, 1)
    ledger = q(env, "select delivery_id, month, outcome, min_event_month from audit.load_ledger "
                    "where month = '2021-03-01' order by delivery_id")
    assert [r[2] for r in ledger] == ["loaded", "restated"]
    first_id, second_id = ledger[0][0], ledger[1][0]
    # Superseded rows stay in raw, marked through the deliveries view; the current delivery is the new one.
    assert q(env, "select count(*) from raw.practices where delivery_id = ?", [first_id])[0][0] == 1
    assert q(env, "select is_current, superseded_by from audit.deliveries where delivery_id = ?", [first_id]) \
        == [(False, second_id)]
    assert q(env, "select delivery_id from audit.current_deliveries where family = 'practices' "
                  "and month = '2021-03-01'") == [(second_id,)]


def test_min_event_month_of_a_late_reported_event(env):
    opening(env)
    write_csv(env.inbox / "practices_2021-03.csv", "practices", [practice("P3", "2021-03-05")])
    load_inbox(env.inbox)
    # A May file reporting a definition of 27 March.
    write_csv(env.inbox / "practices_2021-05.csv", "practices",
              [practice("P3", "2021-03-05", defined="2021-03-27", changed="2021-05-04"),
               practice("P9", "2021-05-02")])
    (res,) = load_inbox(env.inbox)
    assert res.outcome == "loaded" and res.min_event_month == date(2021, 3, 1)
    # The opening file's min_event_month is the first reporting month.
    assert q(env, "select min_event_month from audit.load_ledger where month = '2020-12-01'") == [(date(2021, 1, 1),)]


def test_restatement_with_most_rows_invalid_is_rejected_and_previous_kept(env):
    opening(env)
    load_inbox(env.inbox)
    rows = [practice(f"Q{i}", "2020-12-01", changed="2020-12-31", structure="nowhere") for i in range(9)]
    rows.append(practice("Q9", "2020-12-02", changed="2020-12-31"))
    path = write_csv(env.inbox / "practices_2020-12.csv", "practices", rows)
    res = load_file(path)
    assert res.outcome == "rejected" and "too_many_invalid" in res.message
    assert q(env, "select count(*) from raw.practices")[0][0] == 2
    assert q(env, "select count(*) from audit.quarantine")[0][0] == 0
    assert q(env, "select count(*) from audit.current_deliveries")[0][0] == 1


def test_no_tax_code_in_clear_anywhere_after_a_load(env):
    rows = [practice(f"P{i}", "2020-12-0" + str(1 + i % 9), changed="2020-12-31") for i in range(20)]
    rows[3]["received_on"] = "not-a-date"  # a quarantined row keeps its tax code hashed, too
    clear = {r["applicant_tax_code"] for r in rows}
    write_csv(env.inbox / "practices_2020-12.csv", "practices", rows)
    load_inbox(env.inbox)
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        found = []
        for schema, table in tables:
            cols = [c[0] for c in con.execute(f'describe "{schema}"."{table}"').fetchall()]
            for col in cols:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" where regexp_matches("{col}"::varchar, ?)',  # noqa: S608
                    [TAX_RE],
                ).fetchone()[0]
                if hits:
                    found.append((schema, table, col))
        assert found == []
        hashed = con.execute("select applicant_pseudonym, key_id from raw.practices limit 1").fetchone()
        assert re.fullmatch(r"[0-9a-f]{64}", hashed[0]) and hashed[1] == "dev"
        assert con.execute("select count(*) from audit.quarantine where value like 'sha256:%'").fetchone()[0] == 0
    finally:
        con.close()
    assert len(clear) == 20


def test_production_refuses_the_development_key(env, monkeypatch):
    from orchestration.config import ConfigError

    opening(env)
    monkeypatch.setenv("PIRAMIDE_ENV", "production")
    with pytest.raises(ConfigError):
        load_inbox(env.inbox)
