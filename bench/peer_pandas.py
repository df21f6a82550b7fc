"""The peer (issue 6): the national December 2021 figures computed with pandas from the Parquet extracts, the
way an analyst would script them: read every month's practices file, keep each practice's latest state, then
filter and sum. Run by bench/run_bench.py in a subprocess under an address-space limit; prints one JSON object.

    python bench/peer_pandas.py INBOX SEEDS_DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

D = pd.Timestamp("2021-12-31")
PRACTICE_COLS = ["practice_id", "product_code", "received_on", "entitlement_on", "defined_on", "outcome", "changed_on"]


def read_parquet(path: Path, columns: list[str] | None) -> pd.DataFrame:
    """pandas.read_parquet needs pyarrow, which the project does not install: DuckDB is only the file reader
    here (Parquet -> pandas DataFrame), every computation below is pandas."""
    try:
        return pd.read_parquet(path, columns=columns)
    except ImportError:
        import duckdb

        rel = duckdb.read_parquet(str(path))
        return (rel.select(*columns) if columns else rel).df()


def read_family(inbox: Path, family: str, columns: list[str] | None = None) -> pd.DataFrame:
    frames = []
    for path in sorted(inbox.glob(f"{family}_*.parquet")):
        df = read_parquet(path, columns)
        df["delivery_month"] = path.stem.split("_")[-1]
        df["_row"] = range(1, len(df) + 1)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def figures(inbox: Path, seeds: Path) -> dict[str, float]:
    cat = pd.read_csv(seeds / "product_catalogue.csv")
    sets = pd.read_csv(seeds / "kpi_product_set.csv")
    params = pd.read_csv(seeds / "kpi_parameters.csv")
    continuity_days = float(params.loc[params.parameter == "continuity_days", "value"].max())

    p = read_family(inbox, "practices", PRACTICE_COLS)
    for c in ("received_on", "entitlement_on", "defined_on", "changed_on"):
        p[c] = pd.to_datetime(p[c])
    p = p.sort_values(["practice_id", "delivery_month", "changed_on", "_row"])
    p = p.drop_duplicates("practice_id", keep="last")
    p = p.merge(cat, on="product_code", how="inner")
    k = p.coefficient_hours
    outcome = p.outcome.fillna("")
    def21 = outcome.isin(["granted", "rejected", "other"]) & (p.defined_on.dt.year == 2021)
    rec21 = (outcome != "cancelled") & (p.received_on.dt.year == 2021)
    open_d = (p.received_on <= D) & (p.defined_on.isna() | (p.defined_on > D))
    total = p.in_total_backlog.astype(bool)
    out: dict[str, float] = {}
    out["PRODUZIONE_LORDA"] = float(k[def21 & p.in_produzione_lorda.astype(bool)].sum())
    out["IG_TOTAL"] = float(k[open_d & total].sum() / k[rec21 & total].sum() * 360)
    for grp in ("PSI", "GCAI", "FLUSSI", "ALTRE"):
        g = p.backlog_group == grp
        out[f"IG_{grp}"] = float(k[open_d & g].sum() / k[rec21 & g].sum() * 360)
    out["OUTFLOW"] = float((def21 & total).sum() / (rec21 & total).sum())
    points_scope = float(k[def21 & p.in_productivity_scope.astype(bool)].sum())
    cont = p.product_code.isin(sets.loc[sets.kpi_code == "IMP_CONTINUITY", "product_code"])
    granted = def21 & (outcome == "granted") & cont
    start = p.entitlement_on.fillna(p.received_on)
    start = start.where(start > p.received_on, p.received_on)
    on_time = granted & ((p.defined_on - start).dt.days <= continuity_days)
    out["IMP_CONTINUITY"] = float(100.0 * on_time.sum() / granted.sum())
    del p

    staff = read_family(inbox, "staff")
    scope_sub = cat.groupby("sub_area_code").in_productivity_scope.any()
    scope_sub = set(scope_sub[scope_sub].index)
    s = staff[(staff.role == "production") & (pd.to_datetime(staff.month).dt.year == 2021)
              & staff.sub_area_code.isin(scope_sub)]
    out["PRODUCTIVITY"] = points_scope / float((s.presence_days / s.working_days).sum())
    costs = read_family(inbox, "costs")
    c = costs[pd.to_datetime(costs.month).dt.year == 2021]
    out["COST_PER_POINT"] = float(c.amount_eur.astype(float).round(2).sum()) / points_scope
    return out


def main() -> int:
    inbox, seeds = Path(sys.argv[1]), Path(sys.argv[2])
    t0 = time.perf_counter()
    try:
        res = {"status": "ok", "figures": figures(inbox, seeds)}
    except MemoryError:
        res = {"status": "oom"}
    res["seconds"] = time.perf_counter() - t0
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
