"""The two ways a file lands (straight into raw, or through the temp table `t`) keep and quarantine the same rows.

A Parquet file with the contract's types is inserted into raw as it is read and its bad rows are deleted again
inside the load's transaction; a CSV file is read into `t` first and only its good rows are inserted. The same
rows, delivered once as CSV and once as typed Parquet, must give the same ledger counts, the same quarantine
(row, column, rule, value) and the same raw rows: the fast path may not change what an auditor sees.
"""

from __future__ import annotations

import duckdb

from orchestration.contract import FAMILIES
from orchestration.ingest import load_file
from orchestration.ingest.landing import lands_directly
from orchestration.ingest.reading import describe
from orchestration.warehouse.connection import connect
from tests.bad_input.state import TAX_RE
from tests.helpers import practice, write_csv

MONTH = "2020-12"


def _rows() -> list[dict]:
    rows = [practice(f"P{i}", f"{MONTH}-0{i}", changed=f"{MONTH}-28") for i in range(1, 10)]
    rows[1]["practice_id"] = "P-" + rows[1]["applicant_tax_code"]  # row 2: a tax code in an identifier
    rows[3]["practice_id"] = rows[2]["practice_id"]  # rows 3 and 4: one key twice
    rows[4]["structure_code"] = "atlantide"  # row 5: not in the tree
    rows[5].update(defined_on=f"{MONTH}-01", outcome="granted")  # row 6: defined before it was received
    rows[6]["practice_id"] = None  # row 7: no key
    rows[7]["outcome"] = "granted"  # row 8: an outcome without a definition date
    rows[8]["review_flag"] = "true"  # row 9: fine
    return rows


# (row, column, rule) worked out from the rows above, by the contract's rules.
EXPECTED = [
    (2, "practice_id", "personal_data"),
    (3, "practice_id", "duplicate_key"),
    (4, "practice_id", "duplicate_key"),
    (5, "structure_code", "unknown_code"),
    (6, "defined_on", "date_order"),
    (7, "practice_id", "not_null"),
    (8, "defined_on", "not_null"),
]


def _typed_parquet(csv, out) -> None:
    """The CSV's rows as Parquet with the contract's column types (what the national extracts look like)."""
    cols = ", ".join(f"cast({c.name} as {c.sql_type}) as {c.name}" for c in FAMILIES["practices"].columns)
    con = duckdb.connect()
    try:
        con.execute(f"copy (select {cols} from read_csv(?, all_varchar = true)) to '{out}' (format parquet)",  # noqa: S608
                    [str(csv)])
    finally:
        con.close()


def _landed(wh) -> tuple[list, list]:
    con = connect(wh)
    try:
        quarantine = con.execute(
            "select row_number, column_name, rule_id, value from audit.quarantine order by all").fetchall()
        raw = con.execute(
            "select * exclude (delivery_id, _file, key_id) from raw.practices order by _row").fetchall()
    finally:
        con.close()
    return quarantine, raw


def test_a_typed_parquet_file_and_its_csv_land_the_same_rows(env):
    rows = _rows()
    csv = write_csv(env.tmp / "csv" / f"practices_{MONTH}.csv", "practices", rows)
    parquet = env.tmp / "parquet" / f"practices_{MONTH}.parquet"
    parquet.parent.mkdir()
    _typed_parquet(csv, parquet)
    con = duckdb.connect()
    try:
        # The Parquet file takes the direct path, the CSV the temp table: both paths are under test.
        assert lands_directly(FAMILIES["practices"], describe(con, parquet, "parquet"), "parquet")
        assert not lands_directly(FAMILIES["practices"], describe(con, csv, "csv"), "csv")
    finally:
        con.close()

    results, landed = [], []
    for path, wh in ((csv, env.tmp / "wh_csv.duckdb"), (parquet, env.tmp / "wh_parquet.duckdb")):
        con = connect(wh)
        try:
            results.append(load_file(path, con=con))
        finally:
            con.close()
        landed.append(_landed(wh))

    for r in results:
        assert (r.outcome, r.rows_read, r.rows_accepted, r.rows_rejected) == ("loaded", 9, 2, 7)
    (q_csv, raw_csv), (q_parquet, raw_parquet) = landed
    assert [q[:3] for q in q_csv] == EXPECTED
    assert q_parquet == q_csv
    # Raw holds the two good rows (1 and 9), with every column equal whichever way they came.
    assert [r[-1] for r in raw_parquet] == [1, 9]
    assert raw_parquet == raw_csv
    # The tax code in the deleted row 2 is nowhere: not in raw, not in the quarantine's value.
    assert not any(TAX_RE.search(str(v)) for row in q_parquet + raw_parquet for v in row)
