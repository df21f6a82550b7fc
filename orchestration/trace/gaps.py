"""What a month-end is missing, for the report and the data-quality summary (issue 14, item 3).

- `leaf_gaps`: every leaf left without an actual, per month, with the families (and so the files) it reads
  that were not delivered for that month;
- `zero_reference_drops`: every quality sub-indicator dropped because its reference value is 0 (the index
  against a zero reference is undefined, so the product index averages the others), with counts.
Both read the warehouse through the connection given (read-only is enough) and return plain tuples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.explain import _staging_parents
from orchestration.trace.target import trace_command


@dataclass(frozen=True)
class LeafGap:
    period_end: date
    kpi_code: str
    quantity_code: str | None
    dq_status: str
    structures: int
    missing_families: tuple[str, ...]
    example_structure: str
    families: tuple[str, ...] = ()  # every family the leaf reads (missing or not)

    @property
    def missing_files(self) -> tuple[str, ...]:
        return tuple(f"{family}_{self.period_end:%Y-%m}" for family in self.missing_families)

    @property
    def trace(self) -> str:
        return trace_command(self.kpi_code, self.example_structure, self.period_end)


@dataclass(frozen=True)
class ZeroReferenceDrop:
    period_end: date
    indicator: str
    dropped: int
    references: int


def _families(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """The extract families each quantity reads, through the dbt manifest's lineage of its actuals model."""
    models = con.execute(
        "select quantity_code, any_value(source_model) from intermediate.int_kpi_actuals group by all"
    ).fetchall()
    by_model = {m: tuple(s.removeprefix("stg_") for s in _staging_parents(m)) for m in {m for _, m in models}}
    return {q: by_model[m] for q, m in models}


def leaf_gaps(con: duckdb.DuckDBPyConnection, period_end: date | None = None) -> list[LeafGap]:
    """Leaves without an actual, one line per month x leaf (all months, or the month-end `period_end`)."""
    rows = con.execute(
        """
        select
            s.period_end,
            s.kpi_code,
            case when n.quantity_code = 'MILESTONE' then n.node_code else n.quantity_code end as quantity_code,
            s.dq_status,
            count(*) as structures,
            min(s.structure_code) as example_structure,
            (
                select list(distinct d.family order by d.family)
                from audit.current_deliveries as d
                where d.month = date_trunc('month', s.period_end)
            ) as delivered
        from marts.fct_kpi_scores as s
        inner join reference.kpi_nodes as n on s.kpi_code = n.node_code
        where s.node_kind = 'leaf' and s.actual_value is null and (?::date is null or s.period_end = ?::date)
        group by all
        order by s.period_end, s.kpi_code, s.dq_status
        """,
        [period_end, period_end],
    ).fetchall()
    families = _families(con)
    return [
        LeafGap(pe, kpi, q, status, n, tuple(f for f in families.get(q, ()) if f not in (delivered or [])), example,
                families.get(q, ()))
        for pe, kpi, q, status, n, example, delivered in rows
    ]


def zero_reference_drops(con: duckdb.DuckDBPyConnection, period_end: date | None = None) -> list[ZeroReferenceDrop]:
    """Quality sub-indicators dropped for a zero reference, per month-end and indicator, beside the references
    (structure x product values with a previous-year value) of that month and indicator."""
    rows = con.execute(
        """
        select
            period_end,
            indicator,
            count(*) filter (where abs(reference_value) < 1e-9) as dropped,
            count(reference_value) as references
        from intermediate.int_quality_indicators
        where ?::date is null or period_end = ?::date
        group by all
        having count(*) filter (where abs(reference_value) < 1e-9) > 0
        order by period_end, indicator
        """,
        [period_end, period_end],
    ).fetchall()
    return [ZeroReferenceDrop(*r) for r in rows]
