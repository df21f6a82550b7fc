"""Turn ReportData into one self-contained HTML file: the template, stylesheet and script ship in this package
and are inlined, so the file opens offline from a shared folder or an e-mail attachment."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import jinja2

from orchestration.report import charts, fmt
from orchestration.report.data import (
    IMPACTS,
    OBJECTIVES,
    PERSPECTIVES,
    PYRAMID_INDICES,
    YEAR_KPIS,
    ReportData,
)
from orchestration.trace.target import trace_command

# Short labels for the pyramid's boxes (the full plan names are in the detail panel and the tooltips).
SHORT = {
    "VPI": ("Valore pubblico", "Public value"),
    "SP": ("Performance strategica", "Strategic performance"),
    "PG": ("Performance gestionale", "Management performance"),
    "PI": ("Performance istituzionale", "Institutional performance"),
    "OBJ_A": ("Automazione prestazioni", "Benefit automation"),
    "OBJ_B": ("Contenzioso amministrativo", "Administrative appeals"),
    "OBJ_C": ("Benessere interno", "Staff well-being"),
    "OBJ_D": ("Nuovo modello organizzativo", "New organisation"),
    "OBJ_E": ("Risorse e patrimonio", "Assets and real estate"),
    "OBJ_F": ("Evasione, frodi, vigilanza", "Evasion and fraud"),
    "OBJ_G": ("Prestazioni assistenziali", "Welfare benefits"),
    "OBJ_H": ("Posizioni assicurative", "Insurance positions"),
    "OBJ_I": ("Comunicazione e utenza", "Communication, users"),
    "PG_SVILUPPO": ("Sviluppo", "Development"),
    "PG_FINANZA": ("Finanza", "Finance"),
    "PG_PROCESSI": ("Processi", "Processes"),
    "PG_UTENZA": ("Utenza", "Users"),
    "IMP_CONTINUITY": ("Continuità del reddito", "Income continuity"),
    "IMP_AVG_TIME": ("Tempi medi", "Average time"),
    "IMP_LITIGATION": ("Costi del contenzioso", "Litigation costs"),
    "IMP_REPUTATION": ("Reputazione", "Reputation"),
    "IMP_INSPECTION": ("Riscossione da vigilanza", "Inspection payment"),
}

LEDGER_OUTCOMES = {
    "loaded": "caricato / loaded",
    "restated": "rettifica / restated",
    "unchanged": "invariato / unchanged",
    "rejected": "respinto / rejected",
}

DQ_STATUS = {
    "ok": "ok",
    "missing_actual": "dato mancante / missing actual",
    "no_target": "obiettivo mancante / no target",
    "stale": "dato non aggiornato / stale",
    "partial": "parziale / partial",
}

SEVERITY = {
    "error": "errori / errors",
    "warning": "avvisi / warnings",
    "finding": "rilievi / findings (anomalie note del piano / known plan anomalies)",
}

STRUCTURE_TYPES = {
    "provincial_office": "Direzione provinciale / Provincial office",
    "metropolitan_branch": "Filiale metropolitana / Metropolitan branch",
    "regional_directorate": "Direzione regionale / Regional directorate",
    "metropolitan_coordination_directorate": "Direzione di coordinamento metropolitano / Metropolitan directorate",
}


def _asset(name: str) -> str:
    return resources.files("orchestration.report").joinpath(name).read_text(encoding="utf-8")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _asset(f"templates/{name}")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=fmt.num, auto=fmt.auto, pct=fmt.pct, colour=fmt.score_colour, tcolour=fmt.text_colour,
        compact=fmt.compact, title=fmt.place_name, value=fmt.value,
        dq=lambda s: DQ_STATUS.get(s or "", s or "—"),
        severity=lambda s: SEVERITY.get(s or "", s or "—"),
    )
    # The command an auditor runs to see the extract rows (or components) behind a leaf's score.
    env.globals["trace_command"] = trace_command
    return env


def _box(data: ReportData, code: str) -> dict:
    node = data.nodes.get(code)
    it, en = SHORT.get(code, (code, code))
    short_code = code.removeprefix("OBJ_") if code.startswith("OBJ_") else code
    return {
        "code": code,
        "label": short_code if code in PYRAMID_INDICES or code == "VPI" or code.startswith("OBJ_") else "",
        "it": it,
        "en": en,
        "name_it": node.name_it if node else code,
        "name_en": node.name_en if node else code,
        "score": node.score if node else None,
        "coverage": node.coverage if node else None,
        "present": node is not None,
    }


def _details(data: ReportData) -> list[dict]:
    """One panel per node of the national tree (leaves too, so a child row drills down): place, score, children."""
    children: dict[str, list] = {}
    for n in data.nodes.values():
        if n.parent:
            children.setdefault(n.parent, []).append(n)
    panels = []
    for code, n in data.nodes.items():
        path, cur = [], n.parent
        while cur and cur in data.nodes:
            path.insert(0, data.nodes[cur])
            cur = data.nodes[cur].parent
        kids = sorted(children.get(code, []), key=lambda c: (-(c.weight or 0), c.code))
        panels.append({"node": n, "path": path, "children": kids})
    return panels


def _year_charts(data: ReportData) -> list[dict]:
    out = []
    for code in YEAR_KPIS:
        name_it, name_en, unit = data.kpi_names.get(code, (code, code, None))
        pts = [(pe, a, t) for pe, a, t, _ in data.year.get(code, [])]
        rows = [
            {"month": f"{fmt.MONTHS_IT_SHORT[pe.month - 1]} {pe.year}", "actual": a, "target": t, "score": s,
             "ratio": (a / t - 1) if a is not None and t else None}
            for pe, a, t, s in data.year.get(code, [])
        ]
        out.append({
            "code": code, "name_it": name_it, "name_en": name_en, "unit": unit,
            "unit_label": fmt.UNIT_LABELS.get(unit or "", unit or ""),
            "svg": charts.line_chart(f"year-{code.lower().replace('.', '-')}", pts, unit,
                                     zero_based=code != "PRODUCTIVITY"),
            "rows": rows,
            "projection": dict(zip(("value", "target", "score"), data.projection[code], strict=True))
            if code in data.projection else None,
        })
    return out


def render(data: ReportData, generated_at: dt.datetime | None = None) -> str:
    generated_at = generated_at or dt.datetime.now()
    regions = sorted(data.regions, key=lambda r: (r.scores.get("PG") is None, -(r.scores.get("PG") or 0), r.name))
    region_names = {r.code: r.name for r in data.regions}
    structures = sorted(data.structures, key=lambda s: (region_names.get(s.region or "", ""), s.name))
    vpi_chart = charts.line_chart(
        "year-vpi", [(pe, s, 100.0 if s is not None else None) for pe, s, _ in data.vpi_trend], "index",
        zero_based=False, actual_label="VPI", target_label="obiettivo / target = 100",
    )
    ctx = {
        "css": _asset("static/report.css"),
        "js": _asset("static/report.js"),
        "period_end": data.period_end,
        "period_label": fmt.period_label(data.period_end),
        "period_key": data.period_end.strftime("%Y-%m"),
        "generated_at": generated_at.strftime("%d/%m/%Y %H:%M"),
        "warehouse_name": data.warehouse.name,
        "top": _box(data, "VPI"),
        "indices": [_box(data, c) for c in PYRAMID_INDICES],
        "groups": [
            ("SP", "Obiettivi strategici", "Strategic objectives", [_box(data, c) for c in OBJECTIVES]),
            ("PG", "Prospettive gestionali", "Management perspectives", [_box(data, c) for c in PERSPECTIVES]),
            ("PI", "Impatti", "Impacts", [_box(data, c) for c in IMPACTS]),
        ],
        "details": _details(data),
        "leaves": data.leaves,
        "absent_leaves": data.absent_leaves,
        "unit_labels": fmt.UNIT_LABELS,
        "regional_svg": charts.regional_chart(data.regions),
        "regions": regions,
        "structures": structures,
        "region_names": region_names,
        "perspectives": [(c, *charts.PERSPECTIVE_STYLE[c][:2]) for c in ("PG_SVILUPPO", "PG_FINANZA",
                                                                          "PG_PROCESSI", "PG_UTENZA")],
        "structure_types": STRUCTURE_TYPES,
        "default_region": regions[0].code if regions else "",
        "vpi_chart": vpi_chart,
        "year_charts": _year_charts(data),
        "ledger": data.ledger,
        "ledger_labels": LEDGER_OUTCOMES,
        "rejected_files": data.rejected_files,
        "quarantine": data.quarantine,
        "dq_results": data.dq_results,
        "period_status": data.period_status,
        "missing_leaves": data.missing_leaves,
        "dq_status_counts": data.dq_status_counts,
        "publication": data.publication,
        "publication_causes": data.publication_causes,
        "publication_diff": data.publication_diff,
    }
    return _env().get_template("report.html.j2").render(**ctx)
