"""The load ledger: one row per load attempt (loaded, restated, unchanged, rejected), never updated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb


@dataclass(frozen=True)
class LoadResult:
    delivery_id: int | None
    file: str
    family: str | None
    month: date | None
    outcome: str  # loaded, restated, unchanged, rejected; `waiting` (not loaded, not in the ledger): retry later
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    min_event_month: date | None = None
    message: str = ""
    rule: str | None = None  # the file rule of a rejection
    warning: str | None = None  # the rule of a finding on a load that went ahead (volume_anomaly, volume_drop)


def write_row(con: duckdb.DuckDBPyConnection, delivery_id: int, file: str, family: str | None, month: date | None,
              checksum: str | None, outcome: str, message: str, read: int = 0, accepted: int = 0,
              rejected: int = 0, min_event_month: date | None = None, rule_id: str | None = None,
              warning: str | None = None, accepted_reason: str | None = None) -> None:
    con.execute(
        "insert into audit.load_ledger (delivery_id, file, family, month, checksum, rows_read, rows_accepted, "
        "rows_rejected, min_event_month, outcome, message, loaded_at, rule_id, warning, accepted_reason) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [delivery_id, file, family, month, checksum, read, accepted, rejected, min_event_month, outcome, message,
         datetime.now(), rule_id, warning, accepted_reason],
    )


def current_delivery(con: duckdb.DuckDBPyConnection, family: str, month: date) -> tuple[int, str, int] | None:
    """(delivery_id, checksum, rows_accepted) of the family-month's current delivery."""
    return con.execute(
        "select l.delivery_id, l.checksum, l.rows_accepted from audit.current_deliveries c "
        "join audit.load_ledger l using (delivery_id) where c.family = ? and c.month = ?",
        [family, month],
    ).fetchone()


def has_earlier_delivery(con: duckdb.DuckDBPyConnection, family: str, month: date) -> bool:
    return bool(con.execute(
        "select count(*) from audit.current_deliveries where family = ? and month < ?", [family, month]
    ).fetchone()[0])


# An ambiguous pair is retried on every pass until one file is removed: its rejection does not make it "seen".
RETRIED_RULE = "ambiguous_delivery"


def seen_files(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(file, checksum) pairs the ledger has decided on: such a file is not loaded again."""
    has_rule = con.execute(
        "select count(*) from duckdb_columns() where schema_name = 'audit' and table_name = 'load_ledger' "
        "and column_name = 'rule_id'"
    ).fetchone()[0]
    if not has_rule:  # a warehouse from before the column, opened read-only (the sensor): nothing was retried
        return set(con.execute("select file, checksum from audit.load_ledger").fetchall())
    return set(con.execute(
        "select file, checksum from audit.load_ledger where rule_id is distinct from ?", [RETRIED_RULE]
    ).fetchall())


def load_warnings(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Current deliveries that loaded with a finding, for the data-quality summary.

    (file, family, month, warning, message, accepted_reason, loaded_at): `volume_anomaly` (a first delivery far
    off the family's recent months) or `volume_drop` (a restatement the operator accepted, with the reason).
    """
    return con.execute(
        "select l.file, l.family, l.month, l.warning, l.message, l.accepted_reason, l.loaded_at "
        "from audit.current_deliveries c join audit.load_ledger l using (delivery_id) "
        "where l.warning is not null order by l.month, l.family"
    ).fetchall()
