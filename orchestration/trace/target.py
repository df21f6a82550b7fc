"""What a trace is about: the warehouse it reads (read-only) and the scored row of one node, structure, month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration.warehouse.connection import connect, reader_path
from orchestration.warehouse.vocabulary import MONTH_FMT, parse_month


class TraceError(ValueError):
    """A node, structure or month the warehouse has no scored row for."""


def warehouse_path() -> Path:
    """The working file, read-only: the trace reads extract rows, which the BI copy does not carry
    (orchestration.warehouse.connection.reader_path)."""
    return reader_path(extract_rows=True)


def open_warehouse(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    con = connect(path or warehouse_path(), read_only=True)
    # A trace's lines have no order to keep: without it a COPY streams without buffering batches.
    con.execute("set preserve_insertion_order = false")
    return con


@dataclass(frozen=True)
class Target:
    node: str
    structure: str
    period_end: date
    kind: str
    quantity_code: str | None
    unit: str | None
    actual: float | None
    numerator: float | None
    denominator: float | None
    score: float | None
    dq_status: str | None

    @property
    def month_start(self) -> date:
        return date(self.period_end.year, self.period_end.month, 1)

    @property
    def month(self) -> str:
        return self.period_end.strftime(MONTH_FMT)


def resolve(con: duckdb.DuckDBPyConnection, node: str, structure: str, period: str | date) -> Target:
    """The scored row of `node` at `structure` and the month-end of `period` (YYYY-MM), or TraceError."""
    month = parse_month(period)
    row = con.execute(
        """
        select
            s.kpi_code, s.structure_code, s.period_end, n.kind,
            case when n.quantity_code = 'MILESTONE' then n.node_code else n.quantity_code end,
            n.unit, s.actual_value, s.numerator, s.denominator, s.score, s.dq_status
        from marts.fct_kpi_scores as s
        inner join reference.kpi_nodes as n on s.kpi_code = n.node_code
        where s.kpi_code = ? and s.structure_code = ? and s.period_end = last_day(?::date)
        """,
        [node, structure, month],
    ).fetchone()
    if row is None:
        known = con.execute(
            "select (select count(*) from reference.kpi_nodes where node_code = ?), "
            "(select count(*) from reference.structures where structure_code = ?)",
            [node, structure],
        ).fetchone()
        if not known[0]:
            raise TraceError(f"unknown node {node!r} (reference.kpi_nodes)")
        if not known[1]:
            raise TraceError(f"unknown structure {structure!r} (reference.structures)")
        raise TraceError(
            f"no score row for {node} at {structure} in {month:%Y-%m}: the node is not a leaf, composite, part or "
            "reported KPI, does not apply at that level, or the month is not built"
        )
    return Target(*row)


def trace_command(node: str, structure: str, period: str | date, product: str | None = None) -> str:
    """The command that traces `node` at `structure` for the month of `period` (one product of a quality index
    with `product`)."""
    command = f"piramide trace {node} --structure {structure} --period {parse_month(period):%Y-%m}"
    return f"{command} --product {product}" if product else command
