"""Staff presence: structure x month x sub-area x role, sized from the production it must deliver."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.calendar import month_starts, working_days
from orchestration.synthetic.reference import Reference

# Not plan figures: how far below the productivity target the simulated offices run on average, and the
# size of the non-production roles. STAFF_PROD_SHARE's target (86 %, L4600) sets the production share.
PRODUCTIVITY_ATTAINMENT = 0.97
OTHER_ROLES = {"front_desk": 0.40, "consultancy": 0.25, "support": 0.35}  # split of non-production FTE
REGIONAL_OFFICE_SHARE = 0.05  # regional-office FTE per production FTE of the region
SMART_SPREAD = (-0.12, 0.08)  # around C.1's target share, so its score spreads around 100


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    """Monthly staff files from the first reporting month (the opening month has no staff file)."""
    first = date(opening.year + (opening.month == 12), opening.month % 12 + 1, 1)
    cat = ref.catalogue
    ps = ref.production_structures
    months = month_starts(first, last)
    wd = working_days(months)
    productivity = ref.target("PRODUCTIVITY")
    prod_share = ref.target("STAFF_PROD_SHARE") / 100.0
    smart_target = ref.target("C.1") / 100.0

    # Production FTE per structure x sub-area: the monthly points it defines at the productivity target.
    sub = cat.groupby("sub_area_code", sort=True)
    sub_codes = np.array(list(sub.groups))
    sub_points = ref.plan_points.reindex(sub_codes).fillna(0).to_numpy()
    s_w = ref.structure_weights(np.random.default_rng(rng.integers(1 << 31)))
    eff = rng.lognormal(0.0, 0.10, len(ps)) * PRODUCTIVITY_ATTAINMENT
    fte = scale * s_w[:, None] * sub_points[None, :] / 12.0 / (productivity * eff[:, None])

    rows = []
    inspect = np.array(["VIGILANZA" in c for c in sub_codes])
    roles = np.where(inspect, "inspector", "production")
    n_s, n_a = fte.shape
    for m_i, m in enumerate(months):
        season = rng.normal(1.0, 0.03, (n_s, n_a))
        f = fte * season
        rows.append(
            pd.DataFrame(
                {
                    "structure_code": np.repeat(ps.structure_code.to_numpy(), n_a),
                    "month": m,
                    "sub_area_code": np.tile(sub_codes, n_s),
                    "role": np.tile(roles, n_s),
                    "fte": f.ravel(),
                    "working_days": int(wd[m_i]),
                }
            )
        )
        prod_fte = f[:, ~inspect].sum(axis=1)
        other_total = prod_fte * (1 - prod_share) / prod_share - f[:, inspect].sum(axis=1)
        for role, share in OTHER_ROLES.items():
            rows.append(
                pd.DataFrame(
                    {
                        "structure_code": ps.structure_code.to_numpy(),
                        "month": m,
                        "sub_area_code": "SUPPORT",
                        "role": role,
                        "fte": np.maximum(other_total * share * rng.normal(1.0, 0.05, n_s), 0.0),
                        "working_days": int(wd[m_i]),
                    }
                )
            )
        reg = pd.Series(prod_fte, index=ps.regional_entity_code.to_numpy()).groupby(level=0).sum()
        rows.append(
            pd.DataFrame(
                {
                    "structure_code": reg.index.to_numpy(),
                    "month": m,
                    "sub_area_code": "REGIONAL_OFFICE",
                    "role": "regional_office",
                    "fte": reg.to_numpy() * REGIONAL_OFFICE_SHARE,
                    "working_days": int(wd[m_i]),
                }
            )
        )
    df = pd.concat(rows, ignore_index=True)
    df = df[df.fte > 0].reset_index(drop=True)
    n = len(df)
    df["headcount"] = np.maximum(1, np.ceil(df.fte * rng.uniform(1.02, 1.10, n))).astype("int64")
    # Binomial, not floor(headcount x share): small offices would otherwise never have a smart worker.
    share = smart_target + rng.uniform(*SMART_SPREAD, n)
    df["smart_workers"] = rng.binomial(df.headcount.to_numpy(), share).astype("int64")
    df["presence_days"] = np.round(df.fte * df.working_days, 2)
    df["smart_working_days"] = np.round(df.presence_days * rng.uniform(0.3, 0.5, n), 2)
    df = df.drop(columns="fte")
    df = df[
        ["structure_code", "month", "sub_area_code", "role", "headcount", "smart_workers", "presence_days",
         "smart_working_days", "working_days"]
    ]
    df["working_days"] = df.working_days.astype("int64")
    df["month"] = pd.to_datetime(df.month).dt.date
    return {m: g.reset_index(drop=True) for m, g in df.groupby("month", sort=True)}
