"""The extract rows behind a row-based quantity: one line per contributing row and side.

Reads intermediate.int_contributions, the union of the int_contrib_* views, whose row selection and amounts are
the same dbt macros the aggregate models sum (dbt_project/macros/contributions_*.sql). Everything is one SQL
statement over the warehouse: the summary is a single grouped pass, the file export a DuckDB COPY that
streams, so a national trace at the full volume runs in bounded memory.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.trace.target import Target

# One line per (row, side) counting for `quantity` at `structure` (itself or, if the line rolls up, any
# descendant) in the month `month`. Parameters: node, structure, period_end, quantity, structure, month.
# PRODUCT_LINES_SQL: the lines of the elementary quality values (QUALITY.<indicator>) of one product ($product),
# or of every product when $product is NULL: what a product component of a quality index is made of.
LINES_SQL = """
select
    $node::varchar as kpi_code,
    $structure::varchar as structure_code,
    $period_end::date as period_end,
    c.side,
    c.delivery_id,
    c.file,
    c.row,
    c.business_key,
    c.structure_code as credited_structure,
    c.attributes,
    c.contribution,
    c.unit,
    c.source_model,
    c.quantity_code
from intermediate.int_contributions as c
inner join intermediate.int_structure_ancestors as a
    on c.structure_code = a.structure_code and (c.rolls_up or a.distance = 0)
where
    c.quantity_code = $quantity
    and a.ancestor_code = $structure
    and $month::date between c.first_month and c.last_month
"""
PRODUCT_LINES_SQL = LINES_SQL.replace(
    "c.quantity_code = $quantity",
    "c.quantity_code like 'QUALITY.%' and ($product is null or (c.attributes ->> 'product') = $product)",
)


def _params(t: Target) -> dict:
    return {"node": t.node, "structure": t.structure, "period_end": t.period_end, "quantity": t.quantity_code,
            "month": t.month_start}


def _product_params(t: Target, product: str | None) -> dict:
    return {"node": t.node, "structure": t.structure, "period_end": t.period_end, "product": product,
            "month": t.month_start}


def lines(con: duckdb.DuckDBPyConnection, t: Target, product: str | None = None) -> duckdb.DuckDBPyRelation:
    if product:
        return con.sql(PRODUCT_LINES_SQL, params=_product_params(t, product))
    return con.sql(LINES_SQL, params=_params(t))


def product_totals(con: duckdb.DuckDBPyConnection, t: Target, product: str | None = None) -> dict[tuple, tuple]:
    """{(product, quantity, side): (rows, contribution, unit)} of the elementary quality values at the target's
    structure and month, for one product or (None) every product, in one pass."""
    got = con.execute(
        f"""
        select attributes ->> 'product', quantity_code, side, count(*), sum(contribution), any_value(unit)
        from ({PRODUCT_LINES_SQL})
        group by all
        """,  # noqa: S608 (a constant)
        _product_params(t, product),
    ).fetchall()
    return {(p, q, side): (n, total, unit) for p, q, side, n, total, unit in got}


def has_rows(con: duckdb.DuckDBPyConnection, quantity: str | None) -> bool:
    """Whether a quantity is defined row by row (it has contribution lines somewhere)."""
    if quantity is None:
        return False
    row = con.execute("select count(*) from (select 1 from intermediate.int_contributions "
                      "where quantity_code = ? limit 1)", [quantity]).fetchone()
    return bool(row[0])


def breakdown(con: duckdb.DuckDBPyConnection, t: Target) -> list[tuple]:
    """(side, file, delivery_id, rows, contribution) per side, per side x file and per side x delivery, in one
    pass; file and delivery_id are NULL on the rows that are not broken down by them."""
    return con.execute(
        f"""
        select side, file, delivery_id, count(*) as rows, sum(contribution) as contribution, any_value(unit)
        from ({LINES_SQL})
        group by grouping sets ((side), (side, file), (side, delivery_id))
        order by side desc, file nulls first, delivery_id nulls first
        """,  # noqa: S608 (a constant)
        _params(t),
    ).fetchall()


def side_totals(con: duckdb.DuckDBPyConnection, t: Target) -> dict[str, float]:
    return {side: total for side, file, delivery, _n, total, _u in breakdown(con, t)
            if file is None and delivery is None}


def write(con: duckdb.DuckDBPyConnection, t: Target, out: Path, product: str | None = None) -> int:
    """Stream every line to `out` (.csv or .parquet) with DuckDB's COPY; the number of lines written. With
    `product`, the lines of that product's elementary quality values."""
    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise ValueError(f"--out must end in .csv or .parquet, not {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = "format parquet, compression zstd" if out.suffix == ".parquet" else "format csv, header true"
    # One COPY statement: DuckDB streams the lines to the file (the relation API buffers more).
    sql, params = (PRODUCT_LINES_SQL, _product_params(t, product)) if product else (LINES_SQL, _params(t))
    con.execute(f"copy ({sql}) to $out ({fmt})", {**params, "out": str(out)})  # noqa: S608 (constants)
    reader = "read_parquet(?)" if out.suffix == ".parquet" else "read_csv(?, header = true, all_varchar = true)"
    counted = con.execute(f"select count(*) from {reader}", [str(out)]).fetchone()  # noqa: S608 (constants)
    return int(counted[0])
