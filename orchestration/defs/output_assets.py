"""What a run leaves for people: the data-quality results and summary page, the month's report, the dbt docs.

They are assets of the one job, after the month close and before the BI copy, so a run started by the schedule,
the inbox sensor, the UI or `piramide run` writes the same artefacts, and the BI copy carries this run's
`audit.dq_results`. The order is the dependency chain: checks -> results and summary -> report -> docs -> BI copy.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.

import dagster as dg

from orchestration.config import settings
from orchestration.console import progress
from orchestration.defs.quality_checks import PLAN_KEYS, months_of
from orchestration.defs.raw_assets import RAW_KEYS
from orchestration.defs.resilience import RETRY_POLICY, retry_only_transient

DQ_RESULTS_KEY = dg.AssetKey(["audit", "dq_results"])
DQ_PAGE_KEY = dg.AssetKey("dq_summary_page")
REPORT_KEY = dg.AssetKey("monthly_report")
DOCS_KEY = dg.AssetKey("dbt_docs")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            DQ_RESULTS_KEY,
            group_name="publish",
            deps=["month_close", *RAW_KEYS.values(), *PLAN_KEYS],
            kinds={"duckdb"},
            description="audit.dq_results: every expectation of the run's Great Expectations suites (landing "
            "contract of the extracts, the plan's own arithmetic) and the sources' freshness, one row each, "
            "appended with the run id. The suites run as asset checks; this step persists what they spooled and "
            "validates anything they did not reach.",
        ),
        dg.AssetSpec(
            DQ_PAGE_KEY,
            group_name="publish",
            deps=[DQ_RESULTS_KEY],
            kinds={"html"},
            description="The auditors' one-page data-quality summary of the run (reports/dq/dq_summary_<run>.html "
            "and dq_summary_latest.html), with GX Data Docs beside it.",
        ),
    ],
    name="data_quality_results",
    retry_policy=RETRY_POLICY,
    op_tags={"piramide/writer": "warehouse"},
)
def data_quality_results(context: dg.AssetExecutionContext):
    from orchestration.quality import run_checks

    with retry_only_transient("persisting the data-quality results"):
        res = run_checks(settings().warehouse, context.run.run_id, months_of(context.run.tags))
    progress.info(
        f"checks: {res['expectations']} expectations, {res['failed']} failed ({res['errors']} errors), "
        f"{res['findings']} findings"
    )
    counts = {k: dg.MetadataValue.int(res[k]) for k in ("expectations", "passed", "failed", "errors", "warnings",
                                                         "findings", "rows_written")}
    yield dg.MaterializeResult(asset_key=DQ_RESULTS_KEY, metadata={**counts, "run_id": context.run.run_id})
    yield dg.MaterializeResult(
        asset_key=DQ_PAGE_KEY,
        metadata={**counts, "path": dg.MetadataValue.path(res["summary_path"]),
                  "latest": dg.MetadataValue.path(res["latest_path"])},
    )


class ReportConfig(dg.Config):
    period: str = ""  # YYYY-MM; empty: the latest month-end with a national VPI


@dg.asset(
    key=REPORT_KEY,
    group_name="publish",
    deps=[DQ_PAGE_KEY],
    kinds={"html"},
    description="The month's static HTML report (reports/report_<YYYY-MM>.html and report_latest.html): the "
    "pyramid, the regions, the year so far and the run's data quality. Reads the marts and audit read-only.",
)
def monthly_report(context: dg.AssetExecutionContext, config: ReportConfig) -> dg.MaterializeResult:
    from orchestration.report import build_report

    res = build_report(config.period or None, warehouse=settings().warehouse)
    progress.info(f"report: {res.period} ({res.size_bytes / 1e3:,.0f} kB)")
    return dg.MaterializeResult(metadata={
        "period": res.period,
        "path": dg.MetadataValue.path(str(res.path)),
        "latest": dg.MetadataValue.path(str(res.latest)),
        "size_kb": round(res.size_bytes / 1e3),
        "seconds": round(res.seconds, 2),
    })


@dg.asset(
    key=DOCS_KEY,
    group_name="publish",
    deps=[REPORT_KEY],
    kinds={"dbt"},
    description="The dbt documentation site (reports/dbt_docs/static_index.html, opens from disk): lineage, "
    "column descriptions and the exposures of the marts. A failure is reported, never fatal: the scores are in.",
)
def dbt_docs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from orchestration.report.dbt_docs import DocsError, generate_docs

    try:
        docs = generate_docs()
    except DocsError as exc:
        context.log.warning(str(exc))
        progress.info("dbt docs: not generated (see the log)")
        return dg.MaterializeResult(metadata={"error": str(exc)[:2000]})
    progress.info(f"dbt docs: {docs.index.name}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(docs.index)),
                                          "seconds": round(docs.seconds, 2)})


output_assets = [data_quality_results, monthly_report, dbt_docs]
