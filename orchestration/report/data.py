"""Everything the report shows, read from the `marts` and `audit` schemas through one read-only connection.

Tables another part of the pipeline may not have built yet (`audit.dq_results`, `marts.period_status`) are
looked up in the catalogue first: the report says they are missing instead of failing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.warehouse.vocabulary import NATION, relation_exists, resolve_period

PYRAMID_TOP = ("VPI",)
PYRAMID_INDICES = ("SP", "PG", "PI")
OBJECTIVES = tuple(f"OBJ_{c}" for c in "ABCDEFGHI")
PERSPECTIVES = ("PG_SVILUPPO", "PG_FINANZA", "PG_PROCESSI", "PG_UTENZA")
IMPACTS = ("IMP_CONTINUITY", "IMP_AVG_TIME", "IMP_LITIGATION", "IMP_REPUTATION", "IMP_INSPECTION")
REGIONAL_NODES = (*PERSPECTIVES, "PG")
# The flows of the plan's quarterly targets and productivity (docs/decisions.md §5), month by month.
YEAR_KPIS = ("PRODUZIONE_LORDA", "IEEP.ENTRATE", "IEEP.PRESTAZIONI", "SUSSIDIARIETA", "PRODUCTIVITY")
LEAF_KINDS = ("leaf", "composite", "reported")


@dataclass
class Node:
    code: str
    parent: str | None
    kind: str
    weight: float | None
    score: float | None
    coverage: float | None
    name_it: str
    name_en: str
    plan_line: str | None


@dataclass
class Leaf:
    code: str
    parent: str | None
    kind: str
    name_it: str
    name_en: str
    formula: str | None
    plan_line: str | None
    unit: str | None
    polarity: int | None
    weight: float | None
    actual: float | None
    target: float | None
    numerator: float | None
    denominator: float | None
    deviation: float | None
    deviation_capped: float | None
    score: float | None
    score_vs_budget: float | None
    coverage: float | None
    dq_status: str | None
    path: tuple[str, ...] = ()
    parts: list[Leaf] = field(default_factory=list)
    # The structure the row is scored at: its trace command (piramide trace) names it.
    structure: str = NATION
    # How the year's target was obtained (marts.dim_kpi_target): a seed row, a rule on the year before, ...
    target_source: str | None = None


@dataclass
class StructureScores:
    code: str
    name: str
    level: str
    structure_type: str | None
    region: str | None
    cluster: str | None
    scores: dict[str, float | None]
    coverage: dict[str, float | None]


@dataclass
class ReportData:
    period_end: dt.date
    warehouse: Path
    nodes: dict[str, Node]
    leaves: list[Leaf]
    absent_leaves: list[tuple[str, str, str]]
    regions: list[StructureScores]
    structures: list[StructureScores]
    year: dict[str, list[tuple[dt.date, float | None, float | None, float | None]]]
    vpi_trend: list[tuple[dt.date, float | None, float | None]]
    kpi_names: dict[str, tuple[str, str, str | None]]
    ledger: list[tuple]
    rejected_files: list[tuple]
    quarantine: list[tuple]
    dq_results: dict | None
    period_status: dict | None
    missing_leaves: list[tuple]
    dq_status_counts: list[tuple]
    # The latest publication of the period and what moved since (issue: publish, diff); None when unpublished.
    publication: dict | None = None
    publication_causes: list[str] = dataclasses.field(default_factory=list)
    publication_diff: list[dict] = dataclasses.field(default_factory=list)
    # KPI -> (projected year-end, annual target, projected score) at the period (marts.fct_year_end_projection)
    projection: dict[str, tuple] = dataclasses.field(default_factory=dict)


def _columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    return [r[0] for r in _described_columns(con, schema, name)]


def _described_columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[tuple[str, str | None]]:
    """(column, DuckDB comment): the dbt descriptions persisted by persist_docs, shown as the column's help."""
    return con.execute(
        "select column_name, comment from duckdb_columns() where schema_name = ? and table_name = ? "
        "order by column_index",
        [schema, name],
    ).fetchall()


def _tree(con, period_end) -> tuple[dict[str, Node], dict[str, tuple]]:
    kpi = {
        r[0]: r
        for r in con.execute(
            "select node_code, parent_code, kind, weight, polarity, unit, name_it, name_en, formula_en, plan_line, "
            "node_path, tree_order from marts.dim_kpi"
        ).fetchall()
    }
    nodes = {}
    for code, parent, kind, weight, score, cov in con.execute(
        "select node_code, parent_code, node_kind, weight, score, weight_coverage from marts.fct_value_pyramid "
        "where structure_code = ? and period_end = ?",
        [NATION, period_end],
    ).fetchall():
        k = kpi.get(code)
        nodes[code] = Node(code, parent, kind, weight, score, cov, k[6] if k else code, k[7] if k else code,
                           k[9] if k else None)
    return nodes, kpi


def _leaves(con, period_end, nodes: dict[str, Node], kpi: dict[str, tuple]) -> tuple[list[Leaf], list]:
    rows = con.execute(
        "select kpi_code, actual_value, target_value, numerator, denominator, deviation, deviation_capped, score, "
        "score_vs_budget, weight_coverage, dq_status from marts.fct_kpi_scores "
        "where structure_code = ? and period_end = ?",
        [NATION, period_end],
    ).fetchall()
    # The national tree's own parents first (per-level weights live there), the catalogue's for the rest.
    parents = {c: k[1] for c, k in kpi.items()}
    parents.update({c: n.parent for c, n in nodes.items()})
    by_code: dict[str, Leaf] = {}
    for code, a, t, num, den, dev, devc, score, svb, cov, dq in rows:
        k = kpi.get(code)
        if k is None:
            continue
        _, _, kind, weight, polarity, unit, name_it, name_en, formula, plan_line, path, _ = k
        w = nodes[code].weight if code in nodes else weight
        by_code[code] = Leaf(code, parents.get(code), kind, name_it, name_en, formula, plan_line, unit, polarity, w,
                             a, t, num, den, dev, devc, score, svb, cov, dq, tuple(path))
    if relation_exists(con, "marts", "dim_kpi_target"):
        for code, source in con.execute(
            "select node_code, target_source from marts.dim_kpi_target where structure_code = ? and year = ?",
            [NATION, period_end.year],
        ).fetchall():
            if code in by_code:
                by_code[code].target_source = source
    # dim_kpi's reading order of the tree: depth first, heavier siblings first, reported KPIs and parts last.
    order = {c: k[11] for c, k in kpi.items()}
    leaves = sorted((lf for lf in by_code.values() if lf.kind in LEAF_KINDS), key=lambda lf: order[lf.code])
    # Parts (and parts of parts, e.g. the Customer Care channels) nest under their scored leaf.
    for lf in sorted((lf for lf in by_code.values() if lf.kind == "part"), key=lambda lf: order[lf.code]):
        top = next((by_code[p] for p in lf.path if p in by_code and by_code[p].kind in LEAF_KINDS), None)
        if top is not None:
            lf.path = top.path
            top.parts.append(lf)
    absent = [
        (c, k[6], k[7]) for c, k in kpi.items()
        if k[2] in ("leaf", "composite") and c not in by_code
    ]
    return leaves, absent


def _structure_scores(con, period_end, levels: tuple[str, ...]) -> list[StructureScores]:
    rows = con.execute(
        "select s.structure_code, s.name, s.level, s.structure_type, s.regional_entity_code, s.cost_cluster, "
        "p.node_code, p.score, p.weight_coverage "
        "from marts.dim_structure s left join marts.fct_value_pyramid p "
        "  on p.structure_code = s.structure_code and p.period_end = ? and list_contains(?, p.node_code) "
        "where list_contains(?, s.level) order by s.structure_code",
        [period_end, list(REGIONAL_NODES), list(levels)],
    ).fetchall()
    out: dict[str, StructureScores] = {}
    for code, name, level, stype, region, cluster, node, score, cov in rows:
        st = out.setdefault(code, StructureScores(code, name, level, stype, region, cluster, {}, {}))
        if node:
            st.scores[node] = score
            st.coverage[node] = cov
    return list(out.values())


def _year(con, period_end) -> dict:
    rows = con.execute(
        "select kpi_code, period_end, actual_value, target_value, score from marts.fct_kpi_scores "
        "where structure_code = ? and list_contains(?, kpi_code) and year(period_end) = ? and period_end <= ? "
        "order by kpi_code, period_end",
        [NATION, list(YEAR_KPIS), period_end.year, period_end],
    ).fetchall()
    out: dict[str, list] = {k: [] for k in YEAR_KPIS}
    for code, pe, a, t, s in rows:
        out[code].append((pe, a, t, s))
    return out


def _projection(con, period_end) -> dict[str, tuple]:
    if not relation_exists(con, "marts", "fct_year_end_projection"):
        return {}
    return {r[0]: r[1:] for r in con.execute(
        "select kpi_code, projected_year_end, annual_target, projected_score from marts.fct_year_end_projection "
        "where structure_code = ? and period_end = ? and list_contains(?, kpi_code)",
        [NATION, period_end, list(YEAR_KPIS)],
    ).fetchall()}


def _dq(con, period_end) -> dict:
    out: dict = {}
    out["ledger"] = con.execute(
        "select outcome, count(*), sum(rows_read), sum(rows_accepted), sum(rows_rejected) from audit.load_ledger "
        "group by outcome order by outcome"
    ).fetchall() if relation_exists(con, "audit", "load_ledger") else []
    out["rejected_files"] = con.execute(
        "select file, family, month, message from audit.load_ledger where outcome = 'rejected' "
        "order by loaded_at desc limit 25"
    ).fetchall() if relation_exists(con, "audit", "load_ledger") else []
    out["quarantine"] = con.execute(
        "select rule_id, count(*), count(distinct file), string_agg(distinct column_name, ', ' order by column_name) "
        "from audit.quarantine group by rule_id order by count(*) desc, rule_id"
    ).fetchall() if relation_exists(con, "audit", "quarantine") else []
    out["dq_results"] = _dq_results(con) if relation_exists(con, "audit", "dq_results") else None
    out["period_status"] = _period_status(con, period_end) if relation_exists(con, "marts", "period_status") else None
    out["missing_leaves"] = con.execute(
        "select s.kpi_code, k.name_it, k.name_en, s.dq_status, s.structure_code from marts.fct_kpi_scores s "
        "join marts.dim_kpi k on k.node_code = s.kpi_code "
        "where s.structure_code = ? and s.period_end = ? and s.node_kind in ('leaf', 'composite') "
        "and s.score is null order by s.kpi_code",
        [NATION, period_end],
    ).fetchall()
    out["dq_status_counts"] = con.execute(
        "select s.dq_status, count(*), count(distinct s.structure_code), count(distinct s.kpi_code) "
        "from marts.fct_kpi_scores s where s.period_end = ? and s.node_kind in ('leaf', 'composite') "
        "group by s.dq_status order by s.dq_status = 'ok' desc, count(*) desc",
        [period_end],
    ).fetchall()
    return out


# audit.dq_results is written by the data-quality checks (orchestration/quality, append-only, one run_id per
# validation run); these are the columns the report shows, in this order, when they are there.
DQ_RESULT_COLUMNS = ("severity", "suite", "expectation", "asset", "partition", "unexpected_count", "failing_keys",
                     "description", "checked_at")


def _dq_results(con) -> dict:
    cols = _columns(con, "audit", "dq_results")
    if "success" in cols:
        failed_filter = "not coalesce(success, false)"
    elif "status" in cols:
        failed_filter = "lower(status) not in ('pass', 'passed', 'ok', 'success', 'succeeded')"
    else:
        total = con.execute("select count(*) from audit.dq_results").fetchone()[0]
        return {"total": total, "failed": None, "columns": [], "rows": [], "run_id": None, "by_severity": []}
    when = next((c for c in ("checked_at", "created_at", "timestamp") if c in cols), None)
    # The summary is the latest validation run's, not the history's.
    run_filter, params, run_id = "true", [], None
    if "run_id" in cols and when:
        row = con.execute(f'select run_id from audit.dq_results order by "{when}" desc limit 1').fetchone()  # noqa: S608
        if row:
            run_id = row[0]
            run_filter, params = "run_id = ?", [run_id]
    shown = [c for c in DQ_RESULT_COLUMNS if c in cols] or cols[:6]
    select = ", ".join(f'"{c}"' for c in shown)
    order = ", ".join(f'"{c}"' for c in ("severity", "suite", "expectation") if c in cols) or "1"
    # Findings (the plan's own anomalies) are reported, not counted as failed checks.
    not_finding = "coalesce(severity, '') <> 'finding'" if "severity" in cols else "true"
    total, failed = con.execute(
        f"select count(*), count(*) filter (where {failed_filter} and {not_finding}) "  # noqa: S608
        f"from audit.dq_results where {run_filter}",
        params,
    ).fetchone()
    rows = con.execute(
        f"select {select} from audit.dq_results where {run_filter} and {failed_filter} order by {order} limit 100",  # noqa: S608
        params,
    ).fetchall()
    by_severity = con.execute(
        f"select severity, count(*) from audit.dq_results where {run_filter} and {failed_filter} "  # noqa: S608
        "group by severity order by severity",
        params,
    ).fetchall() if "severity" in cols else []
    return {"total": total, "failed": failed, "columns": shown, "rows": rows, "run_id": run_id,
            "by_severity": by_severity}


def _period_status(con, period_end) -> dict:
    described = _described_columns(con, "marts", "period_status")
    cols = [c for c, _ in described]
    key = next((c for c in ("period_end", "month", "period") if c in cols), None)
    if key is None:
        return {"columns": cols, "descriptions": dict(described), "row": None}
    if key == "period_end":
        row = con.execute("select * from marts.period_status where period_end = ?", [period_end]).fetchone()
    else:
        # `month` may be a date (first of month) or a 'YYYY-MM' string: compare on the string form.
        row = con.execute(
            f'select * from marts.period_status where left(cast("{key}" as varchar), 7) = ?',  # noqa: S608
            [period_end.strftime("%Y-%m")],
        ).fetchone()
    return {"columns": cols, "descriptions": dict(described), "row": row}


DIFF_ROWS_SHOWN = 60


def _publication_diff(con, period_end) -> tuple[dict | None, list[str], list[dict]]:
    """The latest publication of the month-end and the nodes that moved since, when the period was published."""
    if not relation_exists(con, "publish", "publications"):
        return None, [], []
    from orchestration.publication.diff import diff, latest_publication

    pub = latest_publication(con, period_end)
    if pub is None:
        return None, [], []
    d = diff(con, period_end, pub["publication_id"])
    return pub, list(d.causes), list(d.rows[:DIFF_ROWS_SHOWN])


def read_report_data(warehouse: Path, period: str | None = None) -> ReportData:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        period_end = resolve_period(con, period)
        nodes, kpi = _tree(con, period_end)
        leaves, absent = _leaves(con, period_end, nodes, kpi)
        vpi = con.execute(
            "select period_end, score, weight_coverage from marts.fct_value_pyramid "
            "where structure_code = ? and node_code = 'VPI' and year(period_end) = ? and period_end <= ? "
            "order by period_end",
            [NATION, period_end.year, period_end],
        ).fetchall()
        dq = _dq(con, period_end)
        publication, causes, moved = _publication_diff(con, period_end)
        return ReportData(
            period_end=period_end,
            warehouse=warehouse,
            nodes=nodes,
            leaves=leaves,
            absent_leaves=absent,
            regions=_structure_scores(con, period_end, ("regional",)),
            structures=_structure_scores(con, period_end, ("provincial",)),
            year=_year(con, period_end),
            projection=_projection(con, period_end),
            vpi_trend=vpi,
            kpi_names={c: (k[6], k[7], k[5]) for c, k in kpi.items()},
            ledger=dq["ledger"],
            rejected_files=dq["rejected_files"],
            quarantine=dq["quarantine"],
            dq_results=dq["dq_results"],
            period_status=dq["period_status"],
            missing_leaves=dq["missing_leaves"],
            dq_status_counts=dq["dq_status_counts"],
            publication=publication,
            publication_causes=causes,
            publication_diff=moved,
        )
    finally:
        con.close()
