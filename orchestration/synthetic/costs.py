"""Analytic accounting: structure x month x cost nature x cost class, calibrated on the plan's cost targets.

The national total is the one the plan implies (IEEP target / PROFITABILITY target, about 2.61 bn EUR), and
each regional entity's total is its own IEEP target / its PROFITABILITY target (they sum to the national total
exactly, L5349-5551). Cost classes follow each region's DIRECT_COST_SHARE and DIRECT_PROD_COST_SHARE targets;
natures split a class by their calibration shares in seeds/cost_natures.csv (LITIGATION about 210.75 M EUR).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.calendar import month_starts, next_month
from orchestration.synthetic.reference import Reference, seed

# Simulation knobs, not plan figures.
CENTRAL_SHARE = 0.02  # central structures' own costs, carved out of the national total
REGIONAL_OFFICE_SHARE = 0.05  # a regional office's own (direct) costs within its region
# Year-end closing entries (accruals, provisions, reversals) as a share of a nature's annual amount: some
# are negative adjustments, which is why the contract allows negative amounts.
CLOSING_MEAN, CLOSING_SD = 0.03, 0.03
YEAR_LEVEL = {2020: 0.98}  # 2020 spending relative to the 2021 plan
REGION_NOISE = 0.04  # lognormal sd of a region's actual total around its plan-implied total
MONTH_NOISE = 0.05
CLASSES = ("direct_production", "direct_other", "allocated")


def national_total(ref: Reference) -> float:
    """Total costs the plan implies: IEEP target / PROFITABILITY target (territorial-kpis 3.3.2)."""
    return (ref.target("IEEP.ENTRATE") + ref.target("IEEP.PRESTAZIONI")) / ref.target("PROFITABILITY")


def _regional_plan(ref: Reference) -> pd.DataFrame:
    """Per regional entity: plan-implied total cost and cost-class shares (from its own targets)."""
    rows = []
    for code in ref.regional.structure_code:
        ieep = ref.target("IEEP.ENTRATE", code) + ref.target("IEEP.PRESTAZIONI", code)
        direct = ref.target("DIRECT_COST_SHARE", code) / 100.0
        direct_prod = ref.target("DIRECT_PROD_COST_SHARE", code) / 100.0
        rows.append(
            {
                "regional_entity_code": code,
                "total": ieep / ref.target("PROFITABILITY", code),
                "direct_production": direct_prod,
                "direct_other": direct - direct_prod,
                "allocated": 1.0 - direct,
            }
        )
    return pd.DataFrame(rows)


def annual_amounts(ref: Reference, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """One year's costs per structure x nature at the 2021 level (structure_code, cost_nature, cost_class, amount)."""
    natures = seed("cost_natures")
    natures["share_of_total"] = natures.share_of_total.astype(float)
    class_share = natures.groupby("cost_class").share_of_total.sum()
    # A nature's share within its class: the class total comes from the structure's own targets.
    natures["share_in_class"] = natures.share_of_total / natures.cost_class.map(class_share)
    total = national_total(ref) * scale
    plan = _regional_plan(ref)
    plan["total"] *= (1 - CENTRAL_SHARE) * total / plan.total.sum() * rng.lognormal(0.0, REGION_NOISE, len(plan))

    ps = ref.production_structures
    size = ref.structure_weights(np.random.default_rng(rng.integers(1 << 31)))
    ps_region = ps.regional_entity_code.to_numpy()
    frames = []
    for _, reg in plan.iterrows():
        members = ps_region == reg.regional_entity_code
        w_ps = size[members] / size[members].sum()
        for _, nat in natures.iterrows():
            amount = reg.total * reg[nat.cost_class] * nat.share_in_class
            # Allocations are what the regional and central offices charge to production structures; the
            # regional office keeps a share of every direct nature as its own costs.
            office = 0.0 if nat.cost_class == "allocated" else REGIONAL_OFFICE_SHARE
            frames.append(
                pd.DataFrame(
                    {
                        "structure_code": np.append(ps.structure_code.to_numpy()[members], reg.regional_entity_code),
                        "cost_nature": nat.cost_nature,
                        "cost_class": nat.cost_class,
                        "amount": amount * np.append(w_ps * (1 - office), office),
                    }
                )
            )
    central = ref.central.structure_code.to_numpy()
    c_w = rng.dirichlet(np.full(len(central), 4.0))
    direct = natures[natures.cost_class != "allocated"]
    for _, nat in direct.iterrows():
        frames.append(
            pd.DataFrame(
                {
                    "structure_code": central,
                    "cost_nature": nat.cost_nature,
                    "cost_class": nat.cost_class,
                    "amount": CENTRAL_SHARE * total * nat.share_of_total / direct.share_of_total.sum() * c_w,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out[out.amount > 0].reset_index(drop=True)


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    """Monthly cost files from the first reporting month; December also carries the closing entries."""
    months = month_starts(next_month(opening), last)
    base = annual_amounts(ref, scale, rng)
    n = len(base)
    frames = []
    for year in sorted({m.year for m in months}):
        ym = [m for m in months if m.year == year]
        annual = base.amount.to_numpy() * YEAR_LEVEL.get(year, 1.0) * rng.lognormal(0.0, 0.02, n)
        closing = annual * rng.normal(CLOSING_MEAN, CLOSING_SD, n)
        # Monthly bookings are a year's regular costs spread with noise, normalised so the year adds up.
        w = np.maximum(rng.normal(1.0, MONTH_NOISE, (12, n)), 0.5)
        w /= w.sum(axis=0, keepdims=True)
        for m in ym:
            frames.append(base.assign(month=m, amount_eur=(annual - closing) * w[m.month - 1], is_closing=False))
            if m.month == 12:
                frames.append(base.assign(month=m, amount_eur=closing, is_closing=True))
    df = pd.concat(frames, ignore_index=True)
    df["amount_eur"] = df.amount_eur.round(2)
    df = df[df.amount_eur != 0]
    df = df[["structure_code", "month", "cost_nature", "cost_class", "amount_eur", "is_closing"]]
    return {m: g.reset_index(drop=True) for m, g in df.groupby("month", sort=True)}
