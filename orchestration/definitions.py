"""Dagster entry point: `dagster dev -m orchestration.definitions`.

Nothing here opens DuckDB at import time: a code server that keeps this module loaded must never hold the
warehouse's file lock (docs/stack_notes.md §2). Sensors open it read-only, briefly; every writer runs inside
`piramide_job`, in one process.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.automation import inbox_sensor, monthly_close, record_run_failures
from orchestration.defs.dbt_assets import piramide_dbt
from orchestration.defs.jobs import piramide_job
from orchestration.defs.output_assets import output_assets
from orchestration.defs.project import dbt_executable, dbt_project
from orchestration.defs.publish_assets import bi_published_copy, external_assets, month_close
from orchestration.defs.quality_checks import quality_checks, quality_sensors
from orchestration.defs.raw_assets import load_extracts
from orchestration.defs.resources import WarehouseResource

defs = dg.Definitions(
    assets=[load_extracts, piramide_dbt, month_close, *output_assets, bi_published_copy, *external_assets],
    asset_checks=quality_checks,
    jobs=[piramide_job],
    schedules=[monthly_close],
    sensors=[inbox_sensor, record_run_failures, *quality_sensors],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(
            project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir), dbt_executable=dbt_executable()
        )
    },
    executor=dg.in_process_executor,
)
