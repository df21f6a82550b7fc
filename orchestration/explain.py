"""`piramide explain NODE`: a node's place in the pyramid and, for a leaf, where its numbers come from.

Reads the marts (scores, tree) and, for lineage, the dbt manifest and the staging models, whose rows keep
the delivery, file and row they were loaded from.
"""

from __future__ import annotations

import json

import duckdb

from orchestration.config import DBT_PROJECT_DIR
from orchestration.summary import fmt
from orchestration.warehouse.connection import connect_reader
from orchestration.warehouse.vocabulary import resolve_period

LEAF_KINDS = ("leaf", "composite", "part", "reported")


def _staging_parents(model: str) -> list[str]:
    """Staging models upstream of an intermediate model, from the manifest (the documented lineage)."""
    path = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not path.exists():
        return []
    manifest = json.loads(path.read_text())
    nodes = manifest["nodes"]
    start = f"model.piramide.{model}"
    seen, stack, found = set(), [start], []
    while stack:
        uid = stack.pop()
        if uid in seen or uid not in nodes:
            continue
        seen.add(uid)
        node = nodes[uid]
        if node["name"].startswith("stg_"):
            found.append(node["name"])
            continue
        stack.extend(node.get("depends_on", {}).get("nodes", []))
    return sorted(found)


def _lineage(con: duckdb.DuckDBPyConnection, source_model: str, structure: str) -> list[tuple]:
    rows = []
    for stg in _staging_parents(source_model):
        cols = {c[0] for c in con.execute(f'describe staging."{stg}"').fetchall()}  # noqa: S608 (manifest names)
        if "_file" not in cols:
            continue
        where, params = "", []
        if "structure_code" in cols:
            where = (
                "where structure_code in (select structure_code from intermediate.int_structure_ancestors "
                "where ancestor_code = ?)"
            )
            params = [structure]
        rows += con.execute(
            f'select ?, _file, count(*), min(_row), max(_row) from staging."{stg}" {where} '  # noqa: S608
            "group by _file order by _file",
            [stg, *params],
        ).fetchall()
    return rows


def explain(node: str, structure: str = "nazionale", period: str | None = None) -> int:
    # The lineage reads the staging models' extract rows, which only the working file carries.
    con = connect_reader(extract_rows=True)
    try:
        info = con.execute(
            "select node_code, parent_code, kind, weight, polarity, cap_high, unit, period_basis, name_it, name_en, "
            "formula_en, plan_line from marts.dim_kpi where node_code = ?",
            [node],
        ).fetchone()
        if info is None:
            close = con.execute(
                "select node_code from marts.dim_kpi order by jaro_winkler_similarity(node_code, ?) desc limit 5",
                [node],
            ).fetchall()
            print(f"unknown node {node!r}; did you mean: {', '.join(c[0] for c in close)}")
            return 2
        code, parent, kind, weight, polarity, cap_high, unit, basis, name_it, name_en, formula, plan_line = info
        period_end = resolve_period(con, period)
        print(f"{code} - {name_it} / {name_en}")
        print(f"  kind {kind}; parent {parent or '-'}; weight in parent {fmt(weight, 3)}; polarity {polarity:+d}; "
              f"cap_high {cap_high}; unit {unit}; period basis {basis or '-'}; plan line L{plan_line}")
        if formula:
            print(f"  formula: {formula}")
        print(f"  at {structure}, {period_end}:")
        pyr = con.execute(
            "select score, weight_coverage, is_complete from marts.fct_value_pyramid "
            "where node_code = ? and structure_code = ? and period_end = ?",
            [code, structure, period_end],
        ).fetchone()
        if kind not in LEAF_KINDS:
            if pyr is None:
                print("    not computed at this structure (the node does not apply at its level)")
                return 0
            print(f"    score {fmt(pyr[0])}   weight_coverage {fmt(pyr[1], 3)}   complete {pyr[2]}")
            children = con.execute(
                "select p.node_code, k.name_en, p.weight, p.score, p.weight_coverage from marts.fct_value_pyramid p "
                "join marts.dim_kpi k using (node_code) where p.parent_code = ? and p.structure_code = ? "
                "and p.period_end = ? order by p.weight desc nulls last, p.node_code",
                [code, structure, period_end],
            ).fetchall()
            print(f"    {'child':<28} {'weight':>7} {'score':>8} {'coverage':>9}  name")
            for c_code, c_name, c_w, c_s, c_cov in children:
                print(f"    {c_code:<28} {fmt(c_w, 3):>7} {fmt(c_s):>8} {fmt(c_cov, 3):>9}  {c_name}")
            return 0
        row = con.execute(
            "select actual_value, target_value, numerator, denominator, deviation, deviation_capped, score, "
            "score_vs_budget, weight_coverage, dq_status from marts.fct_kpi_scores "
            "where kpi_code = ? and structure_code = ? and period_end = ?",
            [code, structure, period_end],
        ).fetchone()
        if row is None:
            print("    absent at this structure and period (not applicable, or no target where one is required)")
            return 0
        labels = ("actual", "target", "numerator", "denominator", "deviation", "deviation_capped", "score",
                  "score_vs_budget", "weight_coverage", "dq_status")
        for label, value in zip(labels, row, strict=True):
            print(f"    {label:<18} {value if isinstance(value, str) else fmt(value, 6)}")
        parts = con.execute(
            "select s.kpi_code, s.actual_value, s.target_value, s.score from marts.fct_kpi_scores s "
            "join marts.dim_kpi k on k.node_code = s.kpi_code where k.parent_code = ? and k.kind = 'part' "
            "and s.structure_code = ? and s.period_end = ? order by s.kpi_code",
            [code, structure, period_end],
        ).fetchall()
        for p_code, p_a, p_t, p_s in parts:
            print(f"    part {p_code:<30} actual {fmt(p_a)}  target {fmt(p_t)}  score {fmt(p_s)}")
        source = con.execute(
            "select a.source_model from intermediate.int_kpi_actuals a join intermediate.int_kpi_tree t "
            "on a.quantity_code = case when t.quantity_code = 'MILESTONE' then t.node_code else t.quantity_code end "
            "where t.node_code = ? limit 1",
            [code],
        ).fetchone()
        if source:
            print(f"  lineage: computed by intermediate.{source[0]} from these extract rows "
                  f"(current deliveries, {structure} and below):")
            for stg, file, n, first, last in _lineage(con, source[0], structure):
                print(f"    {stg:<16} {file:<32} {n:>10,} rows (rows {first}-{last})")
        return 0
    finally:
        con.close()
