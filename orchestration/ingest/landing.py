"""Where a delivery's rows land in raw, and where its bad rows go, inside the load's one transaction.

A file whose columns already have the contract's types (the Parquet extracts, the national volume) is written
once: straight into raw, typed, masked and pseudonymised in the insert itself. The rules then read the
delivery's rows back through the temp view `t`, and the few rows that break one are deleted again and recorded in
the quarantine before the commit. Writing each row once is what brings a load close to a plain insert.

A file that needs a cast (CSV, or a Parquet column of another type) is read into the temp table `t` first: a
failed cast leaves a null in raw's typed column, and the rules need the text that failed. Only the accepted rows
are inserted.

Either way the rules see the same `t` (contract column names, `_row`, personal columns as their keyed hash),
so a rule and the quarantine it fills are written once for both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration.contract import Family
from orchestration.ingest.columns import is_cast, masked, typed_columns
from orchestration.ingest.identifiers import ident, literal, used
from orchestration.ingest.reading import reader, unreadable

TEMP_TABLES = ("t", "viol", "bad", "bad_codes", "dups")


@dataclass(frozen=True)
class Delivery:
    """What a delivery stamps on every row it lands (bound parameters, never SQL text)."""

    id: int
    month: date
    file: str
    key: str
    key_id: str

    def params(self, sql: str, **extra) -> dict:
        return used(sql, delivery_id=self.id, month_start=self.month, file=self.file, key=self.key,
                    key_id=self.key_id, **extra)


def lands_directly(fam: Family, cols: dict[str, str], ext: str) -> bool:
    """Whether the file can go straight into raw: Parquet (its row numbers are the file's) with no cast."""
    return ext == "parquet" and not any(is_cast(c, cols[c.name]) for c in fam.columns)


def _raw_pairs(fam: Family) -> list[tuple[str, str]]:
    """(column of `t`, column of raw): a personal column is its keyed hash in `t` and a pseudonym in raw."""
    pairs = []
    for c in fam.columns:
        n = ident(c.name)
        pairs.append((n, ident(n.removesuffix("_tax_code") + "_pseudonym") if c.personal else n))
    return pairs


def _insert_sql(fam: Family, source: str) -> str:
    """Insert the rows of `source` (a relation with `t`'s columns) into the family's raw table."""
    pairs = _raw_pairs(fam)
    select_cols, raw_cols = [a for a, _ in pairs], [b for _, b in pairs]
    if fam.personal_columns:
        select_cols.append("$key_id")
        raw_cols.append("key_id")
    return (
        f"insert into {fam.raw_table} ({', '.join(raw_cols)}, delivery_id, delivery_month, _file, _row) "  # noqa: S608
        f"select {', '.join(select_cols)}, $delivery_id, $month_start, $file, _row from {source}"
    )


def _unordered(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> int:
    # Rows carry their file row in _row, so raw needs no insertion order: an unordered insert costs half.
    con.execute("set preserve_insertion_order = false")
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.execute("set preserve_insertion_order = true")


def land_file(con: duckdb.DuckDBPyConnection, fam: Family, cols: dict[str, str], path: Path, d: Delivery) -> int:
    """Insert the whole file into raw under delivery `d` and open `t` over those rows; returns the rows read."""
    source = f"(select {typed_columns(fam, cols)} from {reader('parquet', '$path')} s)"  # noqa: S608
    sql = _insert_sql(fam, source)
    try:
        rows = _unordered(con, sql, d.params(sql, path=str(path)))
    except duckdb.Error as exc:
        raise unreadable(exc, "parquet") from None
    view_cols = ", ".join(b if a == b else f"{b} as {a}" for a, b in _raw_pairs(fam))
    # The delivery id is an integer from the sequence: safe as text, and a view takes no parameters.
    con.execute(f"create temp view t as select _row, {view_cols} from {fam.raw_table} "  # noqa: S608
                f"where delivery_id = {int(d.id)}")
    return rows


def read_into_t(con: duckdb.DuckDBPyConnection, fam: Family, cols: dict[str, str], path: Path, ext: str,
                d: Delivery) -> int:
    """The file read once into temp table t (typed, masked, pseudonymised, with the text of cast columns)."""
    sql = (f"create or replace temp table t as select {typed_columns(fam, cols)} "  # noqa: S608
           f"from {reader(ext, '$path')} s")
    try:
        con.execute(sql, d.params(sql, path=str(path)))
    except duckdb.Error as exc:
        raise unreadable(exc, ext) from None
    return con.execute("select count(*) from t").fetchone()[0]


def land_accepted(con: duckdb.DuckDBPyConnection, fam: Family, d: Delivery, has_bad: bool, landed: bool) -> None:
    """Raw ends up holding exactly the accepted rows: inserted from `t`, or the bad ones taken out again."""
    if landed:
        if has_bad:
            sql = (f"delete from {fam.raw_table} where delivery_id = $delivery_id "  # noqa: S608
                   "and _row in (select _row from bad)")
            con.execute(sql, d.params(sql))
        return
    sql = _insert_sql(fam, "t" + (" anti join bad using (_row)" if has_bad else ""))
    _unordered(con, sql, d.params(sql))


def quarantine(con: duckdb.DuckDBPyConnection, fam: Family, d: Delivery) -> None:
    """The violations of temp table `viol` into audit.quarantine, never a personal value in clear."""
    personal = [literal(c.name) for c in fam.personal_columns]
    # Personal values are kept only as their keyed hash; anything else shaped like a tax code is masked.
    shown = masked("left(value, 200)")
    value_expr = (
        f"case when column_name in ({', '.join(personal)}) then 'sha256:' || value else {shown} end"
        if personal
        else shown
    )
    sql = (
        f"insert into audit.quarantine select $delivery_id, $file, _row, column_name, rule_id, {value_expr} "  # noqa: S608
        "from viol order by _row, column_name, rule_id"
    )
    con.execute(sql, d.params(sql))


def drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the load's temp relations (`t` is a view when the file landed directly, a table otherwise)."""
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where temporary").fetchall()}
    for temp in TEMP_TABLES:
        con.execute(f"drop {'view' if temp in views else 'table'} if exists {temp}")
