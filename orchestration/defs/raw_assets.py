"""The load step: one multi-asset for the eight raw families, so only one process ever writes DuckDB."""

from __future__ import annotations

import dagster as dg

from orchestration.contract import FAMILIES
from orchestration.ingest.loader import load_inbox

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in FAMILIES}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw",
            description=f"raw.{name}: {FAMILIES[name].description} Append-only; loaded and validated "
            "by the piramide loader (ledger audit.load_ledger, rejected rows in audit.quarantine).",
            kinds={"duckdb", "python"},
        )
        for name, key in RAW_KEYS.items()
    ],
    can_subset=True,
    name="load_extracts",
)
def load_extracts(context: dg.AssetExecutionContext):
    families = tuple(k.path[-1] for k in context.selected_asset_keys)
    results = load_inbox(families=families)
    by_family: dict[str, list] = {f: [] for f in families}
    for r in results:
        if r.family in by_family:
            by_family[r.family].append(r)
        elif r.family is None:
            context.log.warning(r.message)
    for fam in families:
        rs = by_family[fam]
        for r in rs:
            (context.log.warning if r.outcome == "rejected" else context.log.info)(r.message)
        yield dg.MaterializeResult(
            asset_key=RAW_KEYS[fam],
            metadata={
                "deliveries": len(rs),
                "rows_accepted": sum(r.rows_accepted for r in rs),
                "rows_quarantined": sum(r.rows_rejected for r in rs if r.outcome != "rejected"),
                "files_rejected": sum(r.outcome == "rejected" for r in rs),
            },
        )
