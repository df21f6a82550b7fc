"""`piramide trace NODE --structure S --period YYYY-MM [--out FILE]`: a score down to the extract rows behind it.

A leaf that is a sum or a ratio of sums lists one line per contributing row and side (rows.py); a leaf built
from other indicators lists its components with weights and values (components.py); one product of a quality
index is traced in turn with `--product CODE` (products.py). The warehouse is opened
read-only (target.py). gaps.py gives the report and the data-quality summary their per-month gaps.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.summary import fmt
from orchestration.trace import components as comp
from orchestration.trace import products, rows
from orchestration.trace.gaps import LeafGap, ZeroReferenceDrop, leaf_gaps, zero_reference_drops
from orchestration.trace.target import Target, TraceError, open_warehouse, resolve, trace_command

__all__ = ["LeafGap", "Target", "TraceError", "ZeroReferenceDrop", "leaf_gaps", "open_warehouse", "resolve",
           "run", "trace_command", "zero_reference_drops"]

FIRST_ROWS = 10
PER_GROUP = 8


def _header(t: Target) -> str:
    return (f"{t.node} at {t.structure}, {t.month} ({t.kind}, quantity {t.quantity_code}): actual {fmt(t.actual, 6)}"
            f"  numerator {fmt(t.numerator, 6)}  denominator {fmt(t.denominator, 6)}  score {fmt(t.score)}"
            f"  dq {t.dq_status}")


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:,.6f}"


def _print_rows(con: duckdb.DuckDBPyConnection, t: Target) -> None:
    marts = {"numerator": t.numerator, "denominator": t.denominator}
    groups = rows.breakdown(con, t)
    print(f"  {'side':<12} {'rows':>10} {'contributions':>22} {'marts':>22}  unit")
    for side, file, delivery, n, total, unit in groups:
        if file is None and delivery is None:
            m = marts.get(side)
            print(f"  {side:<12} {n:>10,} {_num(total):>22} {_num(m):>22}  {unit}")
    for label, pick in (("file", 1), ("delivery", 2)):
        print(f"  per {label}:")
        for side in ("numerator", "denominator"):
            lines = [g for g in groups if g[0] == side and g[pick] is not None and g[3 - pick] is None]
            # The largest first; the rest in one line (the file export has them all).
            lines.sort(key=lambda g: -g[3])
            for g in lines[:PER_GROUP]:
                print(f"    {side:<12} {g[pick]!s:<34} {g[3]:>10,} rows {_num(g[4]):>22}")
            if len(lines) > PER_GROUP:
                rest = lines[PER_GROUP:]
                print(f"    {side:<12} {f'... {len(rest)} more':<34} {sum(g[3] for g in rest):>10,} rows "
                      f"{_num(sum(g[4] or 0 for g in rest)):>22}")
    first = rows.lines(con, t).limit(FIRST_ROWS).fetchall()
    print(f"  first {len(first)} rows (side, delivery_id, file, row, business key, credited structure, contribution):")
    for r in first:
        print(f"    {r[3]:<12} {r[4]:>6} {r[5]:<30} {r[6]:>8} {r[7]:<28} {r[8]:<16} {_num(r[10])}")
    print(f"  every row: {trace_command(t.node, t.structure, t.period_end)} --out FILE.parquet")


def _print_components(con: duckdb.DuckDBPyConnection, t: Target) -> None:
    parts = comp.components(con, t)
    print(f"  components ({comp.kind_of(con, t)}):")
    print(f"    {'component':<56} {'group':<14} {'weight':>14} {'value':>12}")
    for p in parts:
        print(f"    {p.code:<56} {p.group or '':<14} {fmt(p.weight, 4):>14} {fmt(p.value, 6):>12}"
              f"{'  ' + p.note if p.note else ''}")
    print(f"  value from the components {fmt(comp.reproduce(con, t, parts), 6)}   marts {fmt(t.actual, 6)}")
    if comp.kind_of(con, t) == "quality":
        first = parts[0].code if parts else "PRODUCT"
        print(f"  each in turn: {trace_command(t.node, t.structure, t.period_end, first)} (and the others alike)")
        return
    nodes = [p.code for p in parts]
    if nodes:
        print(f"  each in turn: {trace_command(nodes[0], t.structure, t.period_end)} (and the others alike)")


def _run_product(con: duckdb.DuckDBPyConnection, t: Target, product: str, out: Path | None) -> int:
    if comp.kind_of(con, t) != "quality":
        raise TraceError(f"--product traces one product of a quality index (QUALITY_*), not {t.node}")
    products.listed_index(con, t, product)
    if out is not None:
        n = rows.write(con, t, out, product)
        print(f"{n:,} rows of {t.node}, product {product}, at {t.structure}, {t.month} written to {out}")
        return 0
    products.print_product(con, t, product)
    return 0


def run(node: str, structure: str, period: str, out: Path | None = None, product: str | None = None) -> int:
    con = open_warehouse()
    try:
        t = resolve(con, node, structure, period)
        if product:
            return _run_product(con, t, product, out)
        if comp.kind_of(con, t):
            print(_header(t))
            _print_components(con, t)
            return 0
        if not rows.has_rows(con, t.quantity_code):
            print(_header(t))
            print(f"  {t.quantity_code} has no row-level definition (intermediate.int_contributions); "
                  f"see `piramide explain {t.node}`")
            return 1
        if out is not None:
            n = rows.write(con, t, out)
            print(f"{n:,} rows of {t.node} at {t.structure}, {t.month} written to {out}")
            return 0
        print(_header(t))
        _print_rows(con, t)
        return 0
    except TraceError as exc:
        print(exc)
        return 2
    finally:
        con.close()
