"""Every dbt model, seed and test as Dagster assets and asset checks, grouped by layer.

Unpartitioned on purpose: every model computes all month-ends in one statement, and one `dbt build` per run
keeps DuckDB to a single writer. The partitioned `month_close` downstream records which months a run closed.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtCliRuntimeError,
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.config import dbt_env, settings
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
    dagster_dbt_translator=LayerTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    name="piramide_dbt",
    retry_policy=RETRY_POLICY,
    op_tags={"piramide/writer": "warehouse"},
)
def piramide_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    # dbt runs as a subprocess that inherits this environment: point it at the same warehouse.
    os.environ.update(dbt_env())
    # A lock held elsewhere is transient: raise it here, where the RetryPolicy waits for it.
    probe_writer_lock(settings().warehouse)
    try:
        yield from dbt.cli(["build"], context=context).stream()
    except DagsterDbtCliRuntimeError as exc:
        # A failed model or test will fail again on retry: stop now, the run-failure sensor records it.
        raise dg.Failure(description=str(exc)[:4000], allow_retries=False) from exc
