"""Reference data the generator calibrates against, read from the seeds (the plan's own figures)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from orchestration.config import seeds_dir


def seed(name: str) -> pd.DataFrame:
    return pd.read_csv(seeds_dir() / f"{name}.csv", dtype=str, keep_default_na=False)


@dataclass
class Reference:
    """Structures, catalogue and targets as arrays the vectorised generator can index.

    `seed` fixes the structures' sizes: every family sees the same office sizes, so that provincial ratios
    between families (costs per point, productivity) are not distorted by independent draws.
    """

    seed: int = 0

    @cached_property
    def structures(self) -> pd.DataFrame:
        return seed("structures")

    @cached_property
    def production_structures(self) -> pd.DataFrame:
        s = self.structures
        return s[s.level == "provincial"].reset_index(drop=True)

    @cached_property
    def regional(self) -> pd.DataFrame:
        s = self.structures
        return s[s.level == "regional"].reset_index(drop=True)

    @cached_property
    def central(self) -> pd.DataFrame:
        s = self.structures
        return s[s.level == "central"].reset_index(drop=True)

    @cached_property
    def catalogue(self) -> pd.DataFrame:
        c = seed("product_catalogue")
        for col in ("coefficient_hours", "plan_points_share", "grant_rate", "mean_processing_days"):
            c[col] = c[col].astype(float)
        c["standard_days"] = c["standard_days"].astype(int)
        for col in ("in_productivity_scope", "in_produzione_lorda", "in_total_backlog"):
            c[col] = c[col].str.lower().isin(["true", "1", "t", "yes"])
        return c.reset_index(drop=True)

    @cached_property
    def plan_points(self) -> pd.Series:
        p = seed("production_plan_2021")
        p = p[p.level == "sub_area"]
        return p.set_index("sub_area_code")["plan_points_2021"].astype(float)

    @cached_property
    def targets(self) -> pd.DataFrame:
        t = seed("kpi_targets")
        t["target_value"] = t["target_value"].astype(float)
        t["year"] = t["year"].astype(int)
        return t

    def target(self, node: str, structure: str = "nazionale", year: int = 2021) -> float:
        t = self.targets
        row = t[(t.node_code == node) & (t.structure_code == structure) & (t.year == year)]
        if row.empty:
            raise KeyError(f"no {year} target for {node} at {structure} in seeds/kpi_targets.csv")
        return float(row.target_value.iloc[0])

    def product_set(self, kpi: str) -> set[str]:
        s = seed("kpi_product_set")
        return set(s[s.kpi_code == kpi].product_code)

    @cached_property
    def region_weights(self) -> pd.Series:
        """Each regional entity's share of national production, as the plan's own regional targets imply it:
        costs = IEEP / profitability, points = costs / cost per point (L5343-5512)."""
        t = self.targets[(self.targets.year == 2021) & self.targets.structure_code.isin(self.regional.structure_code)]
        by_node = t.pivot_table(index="structure_code", columns="node_code", values="target_value", aggfunc="sum")
        ieep = by_node[["IEEP.ENTRATE", "IEEP.PRESTAZIONI"]].sum(axis=1)
        points = ieep / by_node["PROFITABILITY"] / by_node["COST_PER_POINT"]
        points = points.reindex(self.regional.structure_code)
        points = points.fillna(points.mean())
        return points / points.sum()

    @cached_property
    def _structure_weights(self) -> np.ndarray:
        ps = self.production_structures
        raw = np.random.default_rng([self.seed, 7_919]).lognormal(0.0, 0.35, len(ps))
        reg = ps.regional_entity_code.to_numpy()
        w = np.empty(len(ps))
        for code, share in self.region_weights.items():
            idx = np.flatnonzero(reg == code)
            if len(idx):
                w[idx] = share * raw[idx] / raw[idx].sum()
        return w / w.sum()

    def structure_weights(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Share of national volume per production structure: region share split with lognormal noise.

        The same for every family of one sample (`rng` is accepted for compatibility and not used)."""
        return self._structure_weights
