"""`min_event_month`: the earliest month whose KPIs a delivery can change (the landing contract's rule).

One implementation for the loader (which records it in the ledger) and the inbox sensor (which predicts it
before the load, to request exactly the month closes the delivery invalidates). Both hand it the delivery's
rows as a select over contract columns; they differ only in which ids count as already reported.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from orchestration.contract import Family
from orchestration.ingest.identifiers import ident, used
from orchestration.warehouse.vocabulary import add_months


def event_expr(fam: Family) -> str:
    """The event date of one row `v` (with `prev.id`, the row's id if already reported, for a stateful family)."""
    if fam.stateful:
        state = ", ".join(f"{ident(e)}::date" for e in fam.state_events)
        return (
            f"least(coalesce(least({state}), {fam.month_column}), "
            f"case when prev.id is null then {fam.first_event}::date else {fam.month_column} end)"
        )
    if fam.month_column:
        return f"{ident(fam.month_column)}::date"
    return "$month_start"


def reported_ids_sql(fam: Family, skip_months: bool = False) -> str:
    """Ids of the current deliveries of months before $month_start: items the warehouse already knows.

    A select of `id` that may name the CTE `candidates` (rows whose first event is earlier than every other
    event of the delivery): only those ids are looked up, and only in the delivery months from the earliest
    such first event on (an item's rows are never delivered before it began). `skip_months`: leave out the
    months in the bound list $skip (the sensor's months that a pending file restates).
    """
    key = ident(fam.key[0])
    skip = " and not list_contains($skip, r.delivery_month)" if skip_months else ""
    return (
        f"select r.{key} as id from {fam.raw_table} r "  # noqa: S608
        "join audit.current_deliveries c on c.delivery_id = r.delivery_id "
        "where r.delivery_month < $month_start "
        "and r.delivery_month >= (select date_trunc('month', min(f)) from candidates)"
        f"{skip} and r.{key} in (select id from candidates)"
    )


def _min_event_of(con, fam: Family, rows_sql: str, reported_sql: str | None, params: dict):
    """min(event) over the rows of `rows_sql`, as a date or timestamp (None without rows).

    For a stateful family: every row counts its state events (or its month column: both lie in the file's month
    or before), and an item not yet reported adds its first event. Only a row whose first event is in an
    earlier month than all of those can lower the result, so only those rows' ids are looked up.
    """
    if not fam.stateful:
        sql = f"with v as ({rows_sql}) select min({event_expr(fam)}) from v"  # noqa: S608
        return con.execute(sql, used(sql, **params)).fetchone()[0]
    key, first = ident(fam.key[0]), ident(fam.first_event)
    state = ", ".join(f"{ident(e)}::date" for e in fam.state_events)
    reported = reported_sql or "select id from candidates where false"
    sql = f"""
        with v as ({rows_sql}),
        base as (select min(coalesce(least({state}), {fam.month_column})) as m from v),
        candidates as (
            select {key} as id, {first}::date as f from v
            where {first}::date < date_trunc('month', coalesce((select m from base), $month_start + interval 1 month))
        ),
        seen as (select distinct id from ({reported}))
        select least((select m from base), (select min(f) from candidates anti join seen using (id)))
    """  # noqa: S608
    return con.execute(sql, used(sql, **params)).fetchone()[0]


def min_event_month(
    con: duckdb.DuckDBPyConnection,
    fam: Family,
    month_start: date,
    rows_sql: str,
    *,
    superseded_sql: str | None = None,
    first_delivery: bool = False,
    reported_sql: str | None = None,
    params: dict | None = None,
) -> date:
    """The earliest event month among a delivery's rows and the rows it supersedes.

    `rows_sql` / `superseded_sql`: selects over contract columns (the delivery; the current delivery it
    replaces). `reported_sql`: the ids already reported in earlier months (default: `reported_ids_sql`, the
    warehouse's current deliveries). `params` binds what those selects name besides $month_start.
    """
    if fam.stateful and first_delivery:
        # The opening file: its events predate reporting; KPIs start with the next month.
        return add_months(month_start, 1)
    if fam.stateful and reported_sql is None:
        reported_sql = reported_ids_sql(fam)
    bound = {**(params or {}), "month_start": month_start}
    m = _min_event_of(con, fam, rows_sql, reported_sql, bound)
    if superseded_sql is not None:
        sup = _min_event_of(con, fam, superseded_sql, reported_sql, bound)
        m = min(x for x in (m, sup) if x is not None) if (m or sup) else None
    m = m or month_start
    if isinstance(m, datetime):
        m = m.date()
    return date(m.year, m.month, 1)
