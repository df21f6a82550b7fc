"""Every dbt model, seed and test as Dagster assets and asset checks, grouped by layer."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.config import dbt_env
from orchestration.defs.project import dbt_project


class LayerTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        for layer in ("staging", "intermediate", "marts"):
            if layer in fqn:
                return layer
        return "other"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=LayerTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    name="piramide_dbt",
)
def piramide_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    # dbt runs as a subprocess that inherits this environment: point it at the same warehouse.
    os.environ.update(dbt_env())
    yield from dbt.cli(["build"], context=context).stream()
