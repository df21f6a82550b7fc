"""IEEP ledger and inspection collections: structure x month x item, always positive amounts.

Each of the 19 leaf items of seeds/ieep_items.csv gets its national 2021 target; a regional entity takes the
share of its own section target (IEEP.ENTRATE or IEEP.PRESTAZIONI in seeds/kpi_targets.csv), then its production
structures split it (the regional code keeps a little). Signs are not applied here: they come from the seed.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.calendar import month_starts, next_month
from orchestration.synthetic.reference import Reference, seed

# Simulation knobs, not plan figures.
REGIONAL_OFFICE_SHARE = 0.03  # revenue booked on the regional code itself
REGION_NOISE = 0.06  # lognormal sd of a region's achievement per section and year
ROW_NOISE = 0.15  # lognormal sd of a structure x item x month amount
# Assessments bunch before the summer break and at year end.
SEASONALITY = np.array([0.85, 0.9, 1.0, 1.0, 1.05, 1.1, 1.05, 0.7, 0.95, 1.05, 1.1, 1.25])
SECTION_TARGET = {"contribution_revenue": "IEEP.ENTRATE", "benefits": "IEEP.PRESTAZIONI", "inspection": "IEEP.ENTRATE"}
# A year's level relative to 2021: the plan's own F.1 target of that year where seeded (2020: COVID year).
YEAR_LEVEL_NODE = {"contribution_revenue": "F.1", "inspection": "IMP_INSPECTION"}


def leaf_items() -> pd.DataFrame:
    items = seed("ieep_items")
    items = items[items.is_leaf.str.lower() == "true"].reset_index(drop=True)
    items["national"] = items.national_target_2021_eur.astype(float)
    return items


def _year_level(ref: Reference, section: str, year: int) -> float:
    node = YEAR_LEVEL_NODE.get(section)
    if node is None:
        return 1.0
    try:
        return ref.target(node, "nazionale", year) / ref.target(node, "nazionale", 2021)
    except KeyError:
        return 1.0


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    """Monthly revenue files from the first reporting month."""
    months = month_starts(next_month(opening), last)
    items = leaf_items()
    regions = ref.regional.structure_code.to_numpy()
    ps = ref.production_structures
    size = ref.structure_weights(np.random.default_rng(rng.integers(1 << 31)))

    # Structure shares per section: region share of the section target, then size within the region.
    codes, reg_of = [], []
    for r in regions:
        members = ps.regional_entity_code.to_numpy() == r
        codes += [*ps.structure_code.to_numpy()[members], r]
        reg_of += [r] * (members.sum() + 1)
    codes, reg_of = np.array(codes, dtype=object), np.array(reg_of, dtype=object)
    within = np.empty(len(codes))
    for r in regions:
        idx = np.flatnonzero(reg_of == r)
        ps_idx = ps.index[ps.regional_entity_code == r].to_numpy()
        within[idx[:-1]] = (1 - REGIONAL_OFFICE_SHARE) * size[ps_idx] / size[ps_idx].sum()
        within[idx[-1]] = REGIONAL_OFFICE_SHARE
    share = {}
    for section, node in SECTION_TARGET.items():
        by_region = pd.Series({r: ref.target(node, r) for r in regions})
        share[section] = (by_region / by_region.sum()).reindex(reg_of).to_numpy() * within

    n_s, n_i = len(codes), len(items)
    section = items.section.to_numpy()
    base = np.stack([share[s] for s in section], axis=1) * items.national.to_numpy()[None, :] * scale  # s x i
    frames = []
    for year in sorted({m.year for m in months}):
        # A region over- or under-achieves a whole section in a year, so regional IEEP scores spread.
        ach = {s: rng.lognormal(-REGION_NOISE**2 / 2, REGION_NOISE, len(regions)) for s in SECTION_TARGET}
        reg_idx = pd.Index(regions).get_indexer(reg_of)
        level = np.stack([ach[s][reg_idx] * _year_level(ref, s, year) for s in section], axis=1)
        season = SEASONALITY / SEASONALITY.mean()
        for m in (m for m in months if m.year == year):
            amount = base * level * season[m.month - 1] / 12.0 * rng.lognormal(-ROW_NOISE**2 / 2, ROW_NOISE, (n_s, n_i))
            frames.append(
                pd.DataFrame(
                    {
                        "structure_code": np.repeat(codes, n_i),
                        "month": m,
                        "item_code": np.tile(items.item_code.to_numpy(), n_s),
                        "amount_eur": amount.ravel(),
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    # Amounts are cents; a tiny item at a small sample scale still books a cent rather than vanishing.
    df["amount_eur"] = np.maximum(df.amount_eur.round(2), 0.01)
    return {m: g.reset_index(drop=True) for m, g in df.groupby("month", sort=True)}
