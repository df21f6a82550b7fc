"""The load step: one multi-asset for the eight raw families, so only one process ever writes DuckDB.

Partitioned by delivery month. A run names its files in the run config (the inbox sensor and the monthly
close do); without a list it loads everything new in the inbox (the full rebuild of `piramide run`).
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.
import time

import dagster as dg

from orchestration.config import settings
from orchestration.console import Progress, progress
from orchestration.contract import FAMILIES
from orchestration.defs.partitions import monthly_partitions
from orchestration.defs.resilience import RETRY_POLICY, retry_only_transient
from orchestration.ingest import LoadResult, inbox_files, load_files, load_inbox

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in FAMILIES}
# The dbt sources audit.load_ledger and audit.current_deliveries map to this key (dbt meta): the load writes it.
LEDGER_KEY = dg.AssetKey(["raw", "load_ledger"])


class LoadConfig(dg.Config):
    files: list[str] = []  # inbox file names; empty: everything new in the inbox


def _load_named(names: list[str], families: tuple[str, ...], log, on_file) -> list[LoadResult]:
    """Load exactly these inbox files, in the loader's order, skipping any the ledger already has.

    A retried or re-executed run must not load a file twice: the ledger check makes this idempotent.
    """
    inbox = settings().inbox
    wanted = set(names)
    paths = [p for p in inbox_files(inbox) if p.name in wanted]
    missing = wanted - {p.name for p in paths}
    if missing:
        log.warning("files named by the run are no longer in the inbox: " + ", ".join(sorted(map(repr, missing))))
    # The loader skips what the ledger has seen and rejects two new files of one family-month together.
    return load_files(paths, families=None if set(families) == set(FAMILIES) else families, on_file=on_file)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw",
            description=f"raw.{name}: {FAMILIES[name].description} Append-only; loaded and validated "
            "by the piramide loader (ledger audit.load_ledger, rejected rows in audit.quarantine). "
            "Partitioned by delivery month.",
            kinds={"duckdb", "python"},
        )
        for name, key in RAW_KEYS.items()
    ]
    + [
        dg.AssetSpec(
            LEDGER_KEY,
            group_name="raw",
            description="audit.load_ledger: one row per load attempt (loaded, restated, unchanged, rejected) with "
            "file, family, month, checksum, row counts and min_event_month; never updated. Its view "
            "audit.current_deliveries decides which delivery of each family and month staging reads.",
            kinds={"duckdb", "python"},
        )
    ],
    can_subset=True,
    name="load_extracts",
    partitions_def=monthly_partitions,
    # One run covers a whole range of months (a restatement invalidates several): one process, one writer.
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=RETRY_POLICY,
    op_tags={"piramide/writer": "warehouse"},
)
def load_extracts(context: dg.AssetExecutionContext, config: LoadConfig):
    t0 = time.perf_counter()
    families = tuple(k.path[-1] for k in context.selected_asset_keys if k in RAW_KEYS.values())
    bars: list[Progress] = []

    def on_file(done: int, total: int) -> None:
        if not bars:
            bars.append(Progress("files loaded", total))
        bars[0].advance()

    with retry_only_transient("loading the inbox"):
        if config.files:
            results = _load_named(config.files, families, context.log, on_file)
        else:
            # All families: let the loader see (and reject into the ledger) badly named files too.
            results = load_inbox(families=None if set(families) == set(FAMILIES) else families, on_file=on_file)
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    progress.info(
        f"load: {len(results)} files ({', '.join(f'{v} {k}' for k, v in sorted(outcomes.items())) or 'nothing new'}), "
        f"{sum(r.rows_accepted for r in results):,} rows accepted, "
        f"{sum(r.rows_rejected for r in results if r.outcome != 'rejected'):,} quarantined "
        f"({time.perf_counter() - t0:.1f} s)"
    )
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
                "files": ", ".join(r.file for r in rs)[:2000],
                "min_event_month": min((r.min_event_month.isoformat() for r in rs if r.min_event_month), default=""),
            },
        )
    if LEDGER_KEY in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=LEDGER_KEY,
            metadata={"loads": len(results), **{f"outcome_{k}": v for k, v in sorted(outcomes.items())}},
        )
