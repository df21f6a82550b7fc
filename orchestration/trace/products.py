"""One product of a quality index, traced in turn: `piramide trace QUALITY_x --structure S --period P --product C`.

A product's component is the weighted mean of its elementary indices (intermediate.int_quality_indicators), each
the product's value against its value a year before. Each value is a ratio of sums over practices
(intermediate.int_quality_values): the trace lists the practice lines of every numerator and denominator
(rows.PRODUCT_LINES_SQL, the QUALITY.<indicator> lines of int_contrib_practices) and sets their totals beside
the counts the index was computed from. The value a year before is traced by the same command a year earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.trace import rows
from orchestration.trace.target import Target, TraceError, trace_command

# The counts of int_quality_values each indicator's value is the ratio of (numerator, denominator).
COUNTS = {
    "share_within_standard": ("ytd_within_standard", "ytd_defined_pieces"),
    "avg_definition_days": ("ytd_definition_days", "ytd_defined_pieces"),
    "backlog_over_standard": ("backlog_over_standard", "backlog_pieces"),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    weight: float
    value: float | None
    reference: float | None
    index: float | None
    numerator: float | None
    denominator: float | None


def indicators(con: duckdb.DuckDBPyConnection, t: Target, product: str) -> list[Indicator]:
    """The product's elementary indicators at the target's structure and month, with the counts behind them."""
    counts = ", ".join(f"v.{n}::double, v.{d}::double" for n, d in COUNTS.values())
    got = con.execute(
        f"""
        select i.indicator, i.weight, i.value, i.reference_value, i.idx_prev, {counts}
        from intermediate.int_quality_indicators as i
        left join intermediate.int_quality_values as v
            on i.structure_code = v.structure_code and i.product_code = v.product_code
            and i.period_end = v.period_end
        where i.structure_code = ? and i.product_code = ? and i.period_end = ?
        order by i.weight desc, i.indicator
        """,  # noqa: S608 (column names of COUNTS)
        [t.structure, product, t.period_end],
    ).fetchall()
    if not got:
        raise TraceError(f"{product!r} has no quality values at {t.structure} in {t.month} "
                         "(intermediate.int_quality_indicators)")
    # Each row carries every indicator's counts; keep its own pair.
    at = {code: 5 + 2 * i for i, code in enumerate(COUNTS)}
    return [Indicator(*r[:5], *r[at[r[0]]: at[r[0]] + 2]) for r in got]


def product_index(parts: list[Indicator]) -> float | None:
    """The weighted mean of the indices the product has (int_contrib_quality renormalises the same way)."""
    kept = [(p.weight, p.index) for p in parts if p.index is not None]
    total = sum(w for w, _ in kept)
    return sum(w * i for w, i in kept) / total if kept and total else None


def listed_index(con: duckdb.DuckDBPyConnection, t: Target, product: str) -> tuple[float | None, float | None]:
    """(index, points) of the product as the quality leaf lists it (intermediate.int_contrib_quality)."""
    row = con.execute(
        "select idx_prev, points from intermediate.int_contrib_quality "
        "where quantity_code = ? and structure_code = ? and period_end = ? and product_code = ?",
        [t.quantity_code, t.structure, t.period_end, product],
    ).fetchone()
    if row is None:
        raise TraceError(f"{product!r} is not a component of {t.node} at {t.structure} in {t.month}")
    return row


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:,.6f}"


def print_product(con: duckdb.DuckDBPyConnection, t: Target, product: str) -> None:
    index, points = listed_index(con, t, product)
    parts = indicators(con, t, product)
    totals = rows.product_totals(con, t, product)
    print(f"{t.node} at {t.structure}, {t.month}, product {product}: index {_num(index)} with weight "
          f"{_num(points)} points")
    print(f"  {'indicator':<24} {'weight':>7} {'value':>14} {'a year before':>14} {'index':>12}")
    for p in parts:
        print(f"  {p.code:<24} {p.weight:>7.3f} {_num(p.value):>14} {_num(p.reference):>14} {_num(p.index):>12}")
    print(f"  index from the indicators {_num(product_index(parts))}   listed {_num(index)}")
    print(f"  {'indicator':<24} {'side':<12} {'rows':>10} {'contributions':>20} {'counts':>20}  unit")
    for p in parts:
        for side, count in (("numerator", p.numerator), ("denominator", p.denominator)):
            n, total, unit = totals.get((product, f"QUALITY.{p.code}", side), (0, None, ""))
            print(f"  {p.code:<24} {side:<12} {n:>10,} {_num(total):>20} {_num(count):>20}  {unit}")
    year_before = date(t.period_end.year - 1, t.period_end.month, 1)
    print(f"  every row: {trace_command(t.node, t.structure, t.period_end, product)} --out FILE.parquet")
    print(f"  a year before: {trace_command(t.node, t.structure, year_before, product)}")
