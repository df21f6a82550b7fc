"""Hand-written SVG charts: drawn here in Python so the report needs no charting library and works without JS."""

from __future__ import annotations

import math
from html import escape

from orchestration.report import fmt

PERSPECTIVE_STYLE = {
    # node: (Italian, English, colour); colours kept apart from the red-green score scale of the bars.
    "PG_SVILUPPO": ("Sviluppo", "Development", "#6c3fb5"),
    "PG_FINANZA": ("Finanza", "Finance", "#1f6fb2"),
    "PG_PROCESSI": ("Processi", "Processes", "#e07b00"),
    "PG_UTENZA": ("Utenza", "Users", "#0b8a8a"),
}


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    out, v = [], first
    while v <= hi + step * 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _title(name: str) -> str:
    return fmt.place_name(name)


def regional_chart(regions: list, width: int = 980) -> str:
    """PG of the 23 regional entities as bars around 100 (the target), their four perspectives as dots."""
    rows = sorted(regions, key=lambda r: (r.scores.get("PG") is None, -(r.scores.get("PG") or 0), r.name))
    values = [v for r in rows for k, v in r.scores.items() if v is not None]
    lo = max(50.0, min([90.0, *values]) - 3)
    hi = min(150.0, max([110.0, *values]) + 3)
    ticks = nice_ticks(lo, hi, 10)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    left, right, top, row_h = 200, 70, 54, 22
    plot_w = width - left - right
    height = top + row_h * len(rows) + 34

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    out = [
        f'<svg id="regional-chart" class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Punteggio territoriale per direzione regionale / Territorial score by regional entity">'
    ]
    # Legend.
    lx = 40
    out.append(f'<rect x="{lx}" y="8" width="18" height="11" fill="{fmt.score_colour(105)}" stroke="#7f8c8d"/>')
    out.append(f'<text x="{lx + 24}" y="18" class="legend">PG (punteggio finale / final score)</text>')
    lx += 232
    for it, en, colour in PERSPECTIVE_STYLE.values():
        out.append(f'<circle cx="{lx + 6:.0f}" cy="14" r="5" fill="{colour}" stroke="#fff"/>')
        out.append(f'<text x="{lx + 16:.0f}" y="18" class="legend">{it} / {en}</text>')
        lx += 34 + 6.6 * len(f"{it} / {en}")
    # Grid and axis.
    axis_y = top + row_h * len(rows) + 4
    for t in ticks:
        cls = "grid target" if abs(t - 100) < 1e-9 else "grid"
        out.append(f'<line class="{cls}" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 6}" y2="{axis_y}"/>')
        out.append(f'<text class="tick" x="{x(t):.1f}" y="{axis_y + 14}" text-anchor="middle">{fmt.num(t, 0)}</text>')
    out.append(f'<text class="tick" x="{x(100):.1f}" y="{top - 10}" text-anchor="middle">'
               'obiettivo / target = 100</text>')
    for i, r in enumerate(rows):
        y0 = top + i * row_h
        cy = y0 + row_h / 2
        pg = r.scores.get("PG")
        cov = r.coverage.get("PG")
        out.append(f'<g class="region-row" data-region="{escape(r.code)}" data-score="{"" if pg is None else pg}">')
        out.append(f'<text class="label" x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end">{escape(_title(r.name))}'
                   "</text>")
        if pg is not None:
            x0, x1 = sorted((x(100), x(pg)))
            out.append(
                f'<rect class="bar" x="{x0:.1f}" y="{y0 + 4}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 8}" '
                f'fill="{fmt.score_colour(pg)}" stroke="#7f8c8d" stroke-width="0.5">'
                f"<title>{escape(_title(r.name))} — PG {fmt.num(pg)} (copertura / coverage {fmt.pct(cov, 0)})"
                "</title></rect>"
            )
            out.append(f'<text class="value" x="{x(hi) + 14:.1f}" y="{cy + 4:.1f}">{fmt.num(pg, 1)}</text>')
        else:
            out.append(f'<text class="value muted" x="{x(hi) + 14:.1f}" y="{cy + 4:.1f}">n.d.</text>')
        for code, (it, en, colour) in PERSPECTIVE_STYLE.items():
            v = r.scores.get(code)
            if v is None:
                continue
            out.append(f'<circle class="dot" cx="{x(v):.1f}" cy="{cy:.1f}" r="4.5" fill="{colour}" stroke="#fff">'
                       f"<title>{escape(_title(r.name))} — {it} / {en}: {fmt.num(v)}</title></circle>")
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def line_chart(chart_id: str, points: list[tuple], unit: str | None, width: int = 460, height: int = 250,
               zero_based: bool = True, actual_label: str = "effettivo / actual",
               target_label: str = "obiettivo / target") -> str:
    """Actual (solid) against target (dashed) month by month; points are (date, actual, target)."""
    left, right, top, bottom = 70, 14, 30, 30
    pw, ph = width - left - right, height - top - bottom
    vals = [v for _, a, t in points for v in (a, t) if v is not None]
    out = [f'<svg id="{escape(chart_id)}" class="chart line-chart" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img">']
    if not vals:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="muted">'
                   "nessun dato / no data</text></svg>")
        return "".join(out)
    lo, hi = (0.0 if zero_based else min(vals)), max(vals)
    if not zero_based:
        pad = (hi - lo) * 0.1 or abs(hi) * 0.05 or 1
        lo, hi = lo - pad, hi + pad
    ticks = nice_ticks(lo, hi * (1.05 if zero_based else 1), 5)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    n = 12

    def x(month: int) -> float:
        return left + (month - 1) / (n - 1) * pw

    def y(v: float) -> float:
        return top + ph - (v - lo) / (hi - lo) * ph

    out.append(f'<line class="legend-line actual" x1="{left}" x2="{left + 22}" y1="12" y2="12"/>'
               f'<text class="legend" x="{left + 28}" y="16">{escape(actual_label)}</text>'
               f'<line class="legend-line target" x1="{left + 170}" x2="{left + 192}" y1="12" y2="12"/>'
               f'<text class="legend" x="{left + 198}" y="16">{escape(target_label)}</text>')
    for t in ticks:
        out.append(f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
                   f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{fmt.compact(t)}</text>')
    for m in range(1, n + 1):
        out.append(f'<text class="tick" x="{x(m):.1f}" y="{top + ph + 16}" text-anchor="middle">'
                   f"{fmt.MONTHS_IT_SHORT[m - 1]}</text>")
    for series, cls in ((2, "target"), (1, "actual")):
        pts = [(p[0].month, p[series]) for p in points if p[series] is not None]
        if not pts:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{x(m):.1f},{y(v):.1f}" for i, (m, v) in enumerate(pts))
        out.append(f'<path class="series {cls}" d="{d}"/>')
        label = actual_label if series == 1 else target_label
        for m, v in pts:
            out.append(f'<circle class="pt {cls}" cx="{x(m):.1f}" cy="{y(v):.1f}" r="3">'
                       f"<title>{fmt.MONTHS_IT_SHORT[m - 1]}: {escape(label)} {fmt.auto(v, unit)}</title></circle>")
    out.append("</svg>")
    return "".join(out)
