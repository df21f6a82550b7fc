"""Values computed by other systems: measure x structure x period end (month end), at each measure's level.

Levels and stock/flow come from seeds/measure_codes.csv, levels of value from the plan's targets in
seeds/kpi_targets.csv. Flows are volumes and shrink with the sample scale (their ytd targets are scaled the
same way); stocks (a percentage, an index, a follower count) do not. Some months are missing on purpose, so
that coverage is exercised downstream.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.calendar import month_starts, next_month
from orchestration.synthetic.reference import Reference, seed

# Simulation knobs, not plan figures.
ECO_OFFICE = "eco"  # the central structure that delivers ECO_PIECES_DEFINED (measure level `central`)
SOURCES = {
    "WELFARE_COVERAGE_PCT": "DC Risorse umane - welfare aziendale",
    "WORKS_DELIVERED": "DC Risorse strumentali - piano triennale dei lavori",
    "DISPOSAL_UNITS": "DC Patrimonio e investimenti",
    "DISPOSAL_VALUE_EUR": "DC Patrimonio e investimenti",
    "ECO_PIECES_DEFINED": "Ufficio Estratto conto dipendenti pubblici",
    "SOCIAL_FOLLOWERS": "DC Comunicazione - social media analytics",
    "STANDARD_COST_INDEX": "DC Pianificazione e controllo di gestione",
}
# Not delivered at all (a stock measure's month: the leaf is missing that month-end).
MISSING = {("SOCIAL_FOLLOWERS", date(2021, 4, 1)), ("SOCIAL_FOLLOWERS", date(2021, 5, 1))}
STANDARD_COST_MISSING_RATE = 0.04  # region-months controlling did not compute in time
WELFARE_START = 0.88  # January coverage as a share of the year's target; rises through the year
FOLLOWERS_MONTHLY_GROWTH = 0.008
ATTAINMENT = (0.85, 1.15)  # a year's flow relative to its target


def target_near(ref: Reference, node: str, structure: str, year: int) -> float | None:
    """The year's target, else the nearest seeded year's (a 2020 sample month with only 2021 targets)."""
    t = ref.targets
    rows = t[(t.node_code == node) & (t.structure_code == structure)]
    if rows.empty:
        return None
    best = rows.iloc[(rows.year - year).abs().argsort()].iloc[0]
    return float(best.target_value)


def rule_factor(node: str, year: int) -> float | None:
    """The factor of the plan's rule for the node's year (seeds/target_rules.csv) when its base is the previous
    year-end, so that a simulated stock grows the way the plan asks from where the sample left it."""
    r = seed("target_rules")
    r = r[(r.node_code == node) & (r.structure_code == "nazionale") & (r.year == str(year))]
    r = r[r.base.isin(["prev_actual", "max_prev_target_actual"])]
    return float(r.factor.iloc[0]) if len(r) else None


def _month_end(m: date) -> date:
    return date(m.year, m.month, calendar.monthrange(m.year, m.month)[1])


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    months = month_starts(next_month(opening), last)
    codes = seed("measure_codes").set_index("measure_code")
    node = codes.node_code
    regions = ref.regional.structure_code.tolist()
    years = sorted({m.year for m in months})
    frames = []
    year_end: dict[str, float] = {}  # the last simulated December of each national stock

    def target_or_rule(measure: str, year: int) -> float:
        """The seeded target, or the rule on the previous simulated year-end (a 2022 month of a longer sample)."""
        factor = rule_factor(node[measure], year)
        if factor is not None and measure in year_end:
            return year_end[measure] * factor
        return target_near(ref, node[measure], "nazionale", year)

    def add(measure: str, structure: str, m: date, value: float) -> None:
        frames.append((measure, structure, m, value))

    for year in years:
        ym = [m for m in months if m.year == year]
        mi = np.array([m.month for m in ym])
        # Stock: coverage rises toward (about) the year's target.
        t = target_or_rule("WELFARE_COVERAGE_PCT", year)
        end = t * rng.uniform(0.96, 1.06)
        year_end["WELFARE_COVERAGE_PCT"] = round(float(end), 2)
        for m, v in zip(ym, end * (WELFARE_START + (1 - WELFARE_START) * mi / 12), strict=True):
            add("WELFARE_COVERAGE_PCT", "nazionale", m, round(float(v), 2))
        # Stock: followers grow steadily and end the year near the target.
        t = target_or_rule("SOCIAL_FOLLOWERS", year)
        end = t * rng.uniform(0.97, 1.05)
        year_end["SOCIAL_FOLLOWERS"] = float(np.round(end))
        growth = (1 + FOLLOWERS_MONTHLY_GROWTH) ** (mi - 12.0) * rng.normal(1.0, 0.002, len(mi))
        for m, v in zip(ym, end * growth, strict=True):
            add("SOCIAL_FOLLOWERS", "nazionale", m, float(np.round(v)))
        # Stock: a region's standard-cost index sits near its own target, drifting a little month to month.
        for r in regions:
            t = target_near(ref, node["STANDARD_COST_INDEX"], r, year)
            if t is None:
                continue
            level = t * rng.lognormal(0.0, 0.03)
            vals = level * (1 + np.cumsum(rng.normal(0.0, 0.004, len(ym))))
            keep = rng.random(len(ym)) >= STANDARD_COST_MISSING_RATE
            for m, v, k in zip(ym, vals, keep, strict=True):
                if k:
                    add("STANDARD_COST_INDEX", r, m, round(float(v), 2))
        # Flows: counts drawn at full scale then scaled, so volumes shrink with the sample.
        for measure, structure in (("WORKS_DELIVERED", "nazionale"), ("ECO_PIECES_DEFINED", ECO_OFFICE)):
            t = target_near(ref, node[measure], "nazionale", year)
            lam = t * rng.uniform(*ATTAINMENT) / 12.0
            for m, v in zip(ym, rng.poisson(lam, len(ym)) * scale, strict=True):
                add(measure, structure, m, float(v))
        # Disposals: every DR with a target, and the national remainder the plan does not assign to a DR
        # (600 units / 60 M EUR printed nationally against 580 / 59.2 M in the DR rows, L3295, L5860-5900).
        u_node, v_node = node["DISPOSAL_UNITS"], node["DISPOSAL_VALUE_EUR"]
        u_nat, v_nat = target_near(ref, u_node, "nazionale", year), target_near(ref, v_node, "nazionale", year)
        plan = {r: (target_near(ref, u_node, r, year), target_near(ref, v_node, r, year)) for r in regions}
        plan = {r: uv for r, uv in plan.items() if uv[0] is not None}
        plan["nazionale"] = (
            max(u_nat - sum(u for u, _ in plan.values()), 0.0),
            max(v_nat - sum(v for _, v in plan.values()), 0.0),
        )
        for structure, (units, value) in plan.items():
            if not units:
                continue
            drawn = rng.poisson(units * rng.uniform(*ATTAINMENT) / 12.0, len(ym))
            unit_value = value / units * rng.lognormal(0.0, 0.2, len(ym))
            for m, u, uv in zip(ym, drawn, unit_value, strict=True):
                add("DISPOSAL_UNITS", structure, m, float(u * scale))
                add("DISPOSAL_VALUE_EUR", structure, m, round(float(u * uv * scale), 2))

    df = pd.DataFrame(frames, columns=["measure_code", "structure_code", "month", "value"])
    missing = pd.Series([(c, m) in MISSING for c, m in zip(df.measure_code, df.month, strict=True)], index=df.index)
    df = df[~missing]
    df["period_end"] = [_month_end(m) for m in df.month]
    df["source"] = df.measure_code.map(SOURCES)
    cols = ["measure_code", "structure_code", "period_end", "value", "source"]
    return {m: g[cols].reset_index(drop=True) for m, g in df.groupby("month", sort=True)}
