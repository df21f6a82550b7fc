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
    """Structures, catalogue and targets as arrays the vectorised generator can index."""

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
        """Each regional entity's share of the national IEEP target: the plan's own split of volumes."""
        t = self.targets
        ieep = t[t.node_code.isin(["IEEP.ENTRATE", "IEEP.PRESTAZIONI"]) & (t.year == 2021)]
        by = ieep[ieep.structure_code.isin(self.regional.structure_code)].groupby("structure_code").target_value.sum()
        by = by.reindex(self.regional.structure_code).fillna(by.mean())
        return by / by.sum()

    def structure_weights(self, rng: np.random.Generator) -> np.ndarray:
        """Share of national volume per production structure: region share split with lognormal noise."""
        ps = self.production_structures
        raw = rng.lognormal(0.0, 0.35, len(ps))
        reg = ps.regional_entity_code.to_numpy()
        w = np.empty(len(ps))
        for code, share in self.region_weights.items():
            idx = np.flatnonzero(reg == code)
            if len(idx):
                w[idx] = share * raw[idx] / raw[idx].sum()
        return w / w.sum()
