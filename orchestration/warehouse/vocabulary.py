"""The words every layer shares: the national structure, months and month-ends, and "does this relation exist".

Pure functions and constants (no Dagster, no dbt): the loader, the Dagster definitions, the report and the CLI
all take them from here, so a month is parsed one way and the nation is named once.
"""

from __future__ import annotations

from datetime import date

import duckdb

# The national structure of seeds/structures.csv (level 'national').
NATION = "nazionale"
MONTH_FMT = "%Y-%m"


def parse_month(value: str | date) -> date:
    """'2021-03', '2021-03-31' or a date -> the first day of that month."""
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    parts = value.strip().split("-")
    if len(parts) < 2:
        raise ValueError(f"not a month: {value!r} (expected YYYY-MM)")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {value!r} (expected YYYY-MM)")
    return date(year, month, 1)


def month_key(value: str | date) -> str:
    return parse_month(value).strftime(MONTH_FMT)


def add_months(value: str | date, n: int) -> date:
    d = parse_month(value)
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: str | date, last: str | date) -> list[str]:
    """Every month from first to last inclusive, as 'YYYY-MM' keys (empty when last < first)."""
    start, end = parse_month(first), parse_month(last)
    out: list[str] = []
    while start <= end:
        out.append(start.strftime(MONTH_FMT))
        start = add_months(start, 1)
    return out


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """A table or a view of that schema and name exists."""
    row = con.execute(
        "select count(*) from (select schema_name, table_name as n from duckdb_tables() "
        "union all select schema_name, view_name from duckdb_views()) where schema_name = ? and n = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def resolve_period(con: duckdb.DuckDBPyConnection, period: str | None) -> date:
    """The month-end of 'YYYY-MM', or (no period) the latest month-end with a national VPI score.

    Raises LookupError when the warehouse has no scores for it.
    """
    if period:
        row = con.execute(
            "select max(period_end) from marts.fct_kpi_scores where strftime(period_end, '%Y-%m') = ?",
            [month_key(period)],
        ).fetchone()
    else:
        row = con.execute(
            "select coalesce(max(period_end) filter (where score is not null), max(period_end)) "
            "from marts.fct_value_pyramid where structure_code = ? and node_code = 'VPI'",
            [NATION],
        ).fetchone()
    if not row or row[0] is None:
        raise LookupError(f"no scores for period {period or '(latest)'} in the warehouse")
    return row[0]
