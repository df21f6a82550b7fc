"""Dagster entry point: `dagster dev -m orchestration.definitions`.

Nothing here opens DuckDB at import time: a code server that keeps this module loaded must never hold the
warehouse's file lock (STACK_NOTES point 2). Sensors open it read-only, briefly; every writer runs inside
`piramide_job`, in one process.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.automation import inbox_sensor, monthly_close, record_run_failures
from orchestration.defs.dbt_assets import piramide_dbt
from orchestration.defs.jobs import piramide_job
from orchestration.defs.project import dbt_executable, dbt_project
from orchestration.defs.publish_assets import bi_published_copy, month_close
from orchestration.defs.quality_checks import quality_checks, quality_sensors
from orchestration.defs.raw_assets import load_extracts

defs = dg.Definitions(
    assets=[load_extracts, piramide_dbt, month_close, bi_published_copy],
    asset_checks=quality_checks,
    jobs=[piramide_job],
    schedules=[monthly_close],
    sensors=[inbox_sensor, record_run_failures, *quality_sensors],
    resources={
        "dbt": DbtCliResource(
            project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir), dbt_executable=dbt_executable()
        )
    },
    executor=dg.in_process_executor,
)
