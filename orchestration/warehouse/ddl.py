"""The DDL of every table Python writes (audit, publish, scenario), kept as plain SQL files in `sql/`.

dbt reads these tables as sources and never creates them, so a `dbt build --full-refresh` cannot drop an
audit row or a publication. Every statement is "if not exists": applying a file again changes nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"
# In dependency order; `apply_all` applies them all.
DDL_FILES = ("audit_load", "audit_runs", "publish", "scenario")


@functools.cache
def ddl_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def apply(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Create the tables of these DDL files where they do not exist yet."""
    for name in names:
        con.execute(ddl_text(name))


def apply_all(con: duckdb.DuckDBPyConnection) -> None:
    apply(con, *DDL_FILES)
