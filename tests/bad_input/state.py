"""What a test compares before and after a load: fingerprints of the warehouse, read through read-only connections."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.contract import FAMILIES

TAX_RE = re.compile(r"[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z]")
# The schemas a load may touch (raw, audit) and the BI layer it must not.
FINGERPRINTED = ("raw", "audit", "marts")


@contextmanager
def reading(warehouse: Path):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


def q(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with reading(warehouse) as con:
        return con.execute(sql, params or []).fetchall()


def _ident(schema: str, table: str) -> str:
    return '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'


def _fingerprint(con, without_delivery: int | None = None) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in ('raw', 'audit', 'marts') "
        "order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        where, params = "", []
        if without_delivery is not None and (schema == "raw" or (schema, table) in (
                ("audit", "quarantine"), ("audit", "load_ledger"))):
            where, params = " where delivery_id <> ?", [without_delivery]
        out[f"{schema}.{table}"] = con.execute(
            f"select count(*), coalesce(sum(hash(t)), 0) from {_ident(schema, table)} t{where}",  # noqa: S608
            params,
        ).fetchone()
    out["tables"] = tuple(con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall())
    return out


def fingerprint(warehouse: Path, without_delivery: int | None = None) -> dict[str, tuple]:
    """(rows, order-independent hash of all rows) of every table in raw, audit and marts, and the table list.

    With `without_delivery`, the raw tables, the quarantine and the ledger leave that delivery's rows out, so
    the rest can be compared with the state before it.
    """
    with reading(warehouse) as con:
        return _fingerprint(con, without_delivery)


def _ledger(con) -> list[tuple]:
    return con.execute("select * from audit.load_ledger order by delivery_id").fetchall()


def _current(con) -> dict[tuple, int]:
    return {(f, m): d for f, m, d in con.execute("select family, month, delivery_id from audit.current_deliveries")
            .fetchall()}


def ledger(warehouse: Path) -> list[tuple]:
    with reading(warehouse) as con:
        return _ledger(con)


def current_deliveries(warehouse: Path) -> dict[tuple, int]:
    with reading(warehouse) as con:
        return _current(con)


def snapshot(warehouse: Path, without_delivery: int | None = None) -> dict:
    """Fingerprint, ledger, current deliveries and consistency problems, through one connection."""
    with reading(warehouse) as con:
        return {
            "fingerprint": _fingerprint(con, without_delivery),
            "ledger": _ledger(con),
            "current": _current(con),
            "problems": _consistency_problems(con),
        }


def consistency_problems(warehouse: Path) -> list[str]:
    with reading(warehouse) as con:
        return _consistency_problems(con)


def _consistency_problems(con) -> list[str]:
    """Ledger and raw agree: no raw row without its ledger row, no accepted delivery without its rows.

    An accepted delivery (loaded or restated) has exactly rows_accepted rows in its family's raw table and
    rows_rejected distinct quarantined rows; a rejected or unchanged attempt has none.
    """
    problems: list[str] = []
    led = {
        r[0]: r
        for r in con.execute(
            "select delivery_id, family, outcome, rows_accepted, rows_rejected from audit.load_ledger"
        ).fetchall()
    }
    for fam in FAMILIES.values():
        counts = dict(
            con.execute(f"select delivery_id, count(*) from {fam.raw_table} group by 1").fetchall()  # noqa: S608
        )
        for did, n in counts.items():
            row = led.get(did)
            if row is None:
                problems.append(f"{fam.raw_table}: {n} rows of delivery {did}, which has no ledger row")
            elif row[1] != fam.name or row[2] not in ("loaded", "restated"):
                problems.append(f"{fam.raw_table}: rows of delivery {did} ({row[1]}, {row[2]})")
            elif row[3] != n:
                problems.append(f"{fam.raw_table}: delivery {did} has {n} rows, the ledger says {row[3]}")
        for did, (_, family, outcome, accepted, _) in led.items():
            if family == fam.name and outcome in ("loaded", "restated") and accepted and did not in counts:
                problems.append(f"ledger delivery {did} ({family}) accepted {accepted} rows: none in raw")
    quarantined = dict(
        con.execute("select delivery_id, count(distinct row_number) from audit.quarantine group by 1").fetchall()
    )
    for did, n in quarantined.items():
        row = led.get(did)
        if row is None or row[2] not in ("loaded", "restated") or row[4] != n:
            problems.append(f"quarantine: {n} rows of delivery {did}, ledger row {row}")
    return problems
