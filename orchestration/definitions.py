"""Dagster entry point: `dagster dev -m orchestration.definitions`.

Nothing here opens DuckDB at import time: a code server that keeps this module loaded must never hold the
warehouse's file lock (STACK_NOTES point 2).
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt_assets import piramide_dbt
from orchestration.defs.project import dbt_executable, dbt_project
from orchestration.defs.raw_assets import load_extracts

piramide_job = dg.define_asset_job(
    "piramide_job",
    selection=dg.AssetSelection.all(),
    description="Load new extracts, then build and test every dbt model: the monthly pipeline.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[load_extracts, piramide_dbt],
    jobs=[piramide_job],
    resources={
        "dbt": DbtCliResource(
            project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir), dbt_executable=dbt_executable()
        )
    },
    executor=dg.in_process_executor,
)
