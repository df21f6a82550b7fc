"""The one job: every writer (load, dbt, month close, publish) in one in-process run, so DuckDB has one writer."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.partitions import monthly_partitions

JOB_NAME = "piramide_job"
# Runs carry this tag so an instance can allow one warehouse writer at a time (run queue tag limit).
WRITER_TAG = {"piramide/writer": "warehouse"}

piramide_job = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Load the named (or all new) extracts, check them, build and test every dbt model, close the "
    "run's months, persist the data-quality results and write the summary page, the month's report and the dbt "
    "docs, and last publish the BI copy. Run over a range of monthly partitions: the whole history for a full rebuild "
    "(`piramide run`), exactly the invalidated months for a delivery (inbox sensor, monthly close).",
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
)
