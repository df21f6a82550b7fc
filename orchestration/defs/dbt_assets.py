"""Every dbt model, seed and test as Dagster assets and asset checks, grouped by layer.

Unpartitioned on purpose: every model computes all month-ends in one statement, and one `dbt build` per run
keeps DuckDB to a single writer. The partitioned `month_close` downstream records which months a run closed.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.config import DBT_PROJECT_DIR, ROOT, dbt_env, seeds_dir, settings
from orchestration.console import Progress, progress
from orchestration.defs.project import dbt_project
from orchestration.defs.resilience import RETRY_POLICY, probe_writer_lock

LAYERS = ("staging", "intermediate", "marts")


class LayerTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        for layer in LAYERS:
            if layer in fqn:
                return layer
        return "other"

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The UI shows this; fall back to a sentence rather than the raw SQL when a model has no description.
        text = (dbt_resource_props.get("description") or "").strip()
        if text:
            return text
        kind = dbt_resource_props["resource_type"]
        return f"dbt {kind} {dbt_resource_props['name']} ({dbt_resource_props.get('original_file_path', '')})."


@dbt_assets(
    manifest=dbt_project.manifest_path,
    # The audit sources (ledger, current deliveries, quarantine) all map to the load's raw/load_ledger asset.
    dagster_dbt_translator=LayerTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
    ),
    name="piramide_dbt",
    retry_policy=RETRY_POLICY,
    op_tags={"piramide/writer": "warehouse"},
)
def piramide_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    # dbt runs as a subprocess that inherits this environment: point it at the same warehouse.
    os.environ.update(dbt_env())
    # A lock held elsewhere is transient: raise it here, where the RetryPolicy waits for it.
    probe_writer_lock(settings().warehouse)
    invocation = dbt.cli(["build"], context=context)
    selected = len(context.selected_asset_keys) + len(context.selected_asset_check_keys)
    bar = Progress("dbt models and tests done", selected)
    t0 = time.perf_counter()
    try:
        for event in invocation.stream():
            # Observations are dbt tests outside Dagster's check selection: not part of the count.
            if not isinstance(event, dg.AssetObservation):
                bar.advance()
            yield event
        progress.info(f"dbt build: {bar.done:,} models, seeds and tests ({time.perf_counter() - t0:.1f} s)")
    except Exception as exc:
        # Never leave dbt writing behind a failed (or retried) step: it holds the warehouse lock.
        if invocation.process.poll() is None:
            invocation.process.send_signal(signal.SIGINT)
            try:
                invocation.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                invocation.process.kill()
                invocation.process.wait()
        if isinstance(exc, KeyError):
            # dbt reported a node that the manifest loaded at start-up does not have.
            stale = stale_manifest_sources()
            raise dg.Failure(
                description=f"dbt built {exc} which Dagster's manifest does not know: the manifest is stale "
                "(newer: " + (", ".join(stale[:5]) or "?") + "); run `make setup` (piramide parse)",
                allow_retries=False,
            ) from exc
        # A failed model or test fails again on retry: stop now, the run-failure sensor records it.
        raise dg.Failure(description=f"dbt build failed: {str(exc)[:4000]}", allow_retries=False) from exc


def stale_manifest_sources() -> list[str]:
    """Project files newer than the manifest Dagster loaded (the same rule as the Makefile's setup target)."""
    manifest = Path(dbt_project.manifest_path)
    if not manifest.exists():
        return ["(no manifest)"]
    built = manifest.stat().st_mtime
    roots = [Path(DBT_PROJECT_DIR) / d for d in ("models", "macros", "tests")] + [seeds_dir()]
    files = [Path(DBT_PROJECT_DIR) / "dbt_project.yml"] + [p for r in roots if r.is_dir() for p in r.rglob("*")]
    return sorted(str(p.relative_to(ROOT)) for p in files if p.is_file() and p.stat().st_mtime > built)
