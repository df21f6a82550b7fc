"""The dbt project as Dagster sees it. No @dbt_assets here, so the manifest can be prepared from this module."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration.config import DBT_PROJECT_DIR

# dbt is started one way (orchestration.warehouse.dbt): the wrapper that dies with its parent.
from orchestration.warehouse.dbt import dbt_executable

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


__all__ = ["dbt_executable", "dbt_project"]
