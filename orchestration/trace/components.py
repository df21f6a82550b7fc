"""The components of a leaf built from other indicators, with their weights and values.

- a composite (IEEP, improvement projects, real-estate disposals): its parts' actual / target, clamped and
  weighted by the plan's part weights (kpi_nodes.composite_rule);
- a quality index (QUALITY_*): its products' indices weighted by their points (intermediate.int_contrib_quality,
  the very rows int_kpi_actuals_quality averages);
- Customer Care and its channel indices: the child indices weighted by the seeds (channel_standards,
  customer_care_weights).

Each component is a node or a product traceable in turn; `reproduce` recomputes the leaf's value from the
components so a trace shows that they account for it. Components are a handful of rows: Python combines them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.trace.target import Target


@dataclass(frozen=True)
class Component:
    code: str
    group: str | None
    weight: float | None
    value: float | None
    actual: float | None = None
    target: float | None = None
    note: str | None = None


def _rule(con: duckdb.DuckDBPyConnection, node: str) -> str | None:
    row = con.execute("select composite_rule from reference.kpi_nodes where node_code = ?", [node]).fetchone()
    return row[0] if row else None


def _composite(con: duckdb.DuckDBPyConnection, t: Target) -> list[Component]:
    rows = con.execute(
        """
        select s.kpi_code, n.part_weight, s.actual_value / nullif(s.target_value, 0), s.actual_value, s.target_value
        from marts.fct_kpi_scores as s
        inner join reference.kpi_nodes as n on s.kpi_code = n.node_code
        where n.parent_code = ? and n.kind = 'part' and s.structure_code = ? and s.period_end = ?
        order by n.part_weight desc, s.kpi_code
        """,
        [t.node, t.structure, t.period_end],
    ).fetchall()
    return [Component(code, None, w, ratio, a, tg, "actual / target") for code, w, ratio, a, tg in rows]


def _quality(con: duckdb.DuckDBPyConnection, t: Target) -> list[Component]:
    rows = con.execute(
        """
        select product_code, points, idx_prev, indicators_zero_reference
        from intermediate.int_contrib_quality
        where quantity_code = ? and structure_code = ? and period_end = ?
        order by points desc nulls last, product_code
        """,
        [t.quantity_code, t.structure, t.period_end],
    ).fetchall()
    return [
        Component(product, None, points, idx,
                  note=f"{zero} indicator(s) dropped: reference 0" if zero else None)
        for product, points, idx, zero in rows
    ]


def _customer_care(con: duckdb.DuckDBPyConnection, t: Target) -> list[Component]:
    cols = {c[0] for c in con.execute("describe intermediate.int_kpi_actuals_contacts").fetchall()}
    # The elementary parts carry their own unit in actual_value when actual_index exists beside it.
    index = "coalesce(a.actual_index, a.actual_value)" if "actual_index" in cols else "a.actual_value"
    rows = con.execute(
        f"""
        select
            n.node_code,
            case when ch.channel_code is not null then 'CHANNELS_MEAN' end,
            coalesce(ch.weight, w.weight),
            {index}
        from reference.kpi_nodes as n
        left join reference.channel_standards as ch on split_part(n.node_code, '.', -1) = ch.channel_code
        left join reference.customer_care_weights as w on split_part(n.node_code, '.', -1) = w.component
        left join intermediate.int_kpi_actuals_contacts as a
            on a.quantity_code = n.quantity_code and a.structure_code = ? and a.period_end = ?
        where n.parent_code = ? and n.kind = 'part'
        order by 2 nulls last, n.node_code
        """,  # noqa: S608 (a column name chosen above)
        [t.structure, t.period_end, t.quantity_code],
    ).fetchall()
    return [Component(code, group, weight, value) for code, group, weight, value in rows]


def kind_of(con: duckdb.DuckDBPyConnection, t: Target) -> str | None:
    """'composite', 'quality' or 'customer_care' for a leaf built from other indicators, else None."""
    if t.kind == "composite":
        return "composite"
    q = t.quantity_code or ""
    if q.startswith("QUALITY_"):
        return "quality"
    if q.startswith("CUSTOMER_CARE"):
        # Customer Care and its channels are indices of child parts; the elementary parts are not.
        row = con.execute("select count(*) from reference.kpi_nodes where parent_code = ? and kind = 'part'",
                          [q]).fetchone()
        return "customer_care" if row[0] else None
    return None


def components(con: duckdb.DuckDBPyConnection, t: Target) -> list[Component]:
    kind = kind_of(con, t)
    if kind == "composite":
        return _composite(con, t)
    if kind == "quality":
        return _quality(con, t)
    if kind == "customer_care":
        return _customer_care(con, t)
    return []


def _weighted_mean(pairs: list[tuple[float | None, float | None]]) -> float | None:
    kept = [(w, v) for w, v in pairs if w is not None and v is not None]
    total = sum(w for w, _ in kept)
    return sum(w * v for w, v in kept) / total if kept and total else None


def reproduce(con: duckdb.DuckDBPyConnection, t: Target, parts: list[Component]) -> float | None:
    """The leaf's value recomputed from its components (None where the components cannot give one)."""
    kind = kind_of(con, t)
    if kind == "composite":
        if not parts or any(p.value is None for p in parts):
            return None
        if _rule(con, t.node) == "max_of_swapped_weights":
            (w1, c1), (w2, c2) = [(p.weight, p.value) for p in parts[:2]]
            return max(w1 * c1 + w2 * c2, w2 * c1 + w1 * c2)
        return sum(p.weight * min(1.5, max(0.5, p.value)) for p in parts)
    if kind == "quality":
        return _weighted_mean([(p.weight, p.value) for p in parts])
    if kind == "customer_care":
        channels = [(p.weight, p.value) for p in parts if p.group == "CHANNELS_MEAN"]
        if not channels:
            return _weighted_mean([(p.weight, p.value) for p in parts])
        top = con.execute("select component, weight from reference.customer_care_weights "
                          "where parent_component = 'CUSTOMER_CARE'").fetchall()
        values = {"CHANNELS_MEAN": _weighted_mean(channels)}
        values |= {p.code.rsplit(".", 1)[-1]: p.value for p in parts if p.group is None}
        return _weighted_mean([(w, values.get(component)) for component, w in top])
    return None
