"""The last two steps of a run: close the run's months, then publish the BI copy.

`month_close` is the partitioned end of the graph: the dbt models compute every month-end at once, and this
asset records, per month of the run's partition range, that its KPIs were rebuilt from the current deliveries
(`audit.month_close`, one row per month per close, so a re-close after a restatement stays visible).
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.
from datetime import datetime

import dagster as dg

from orchestration.console import progress
from orchestration.defs.automation import drain_run_failure_spool
from orchestration.defs.dbt_assets import piramide_dbt
from orchestration.defs.partitions import add_months, monthly_partitions, parse_month
from orchestration.defs.resilience import RETRY_POLICY, retry_only_transient
from orchestration.defs.resources import WarehouseResource
from orchestration.publish_bi import publish
from orchestration.warehouse import ddl

MARTS_KEYS = sorted(
    (k for k, g in piramide_dbt.group_names_by_key.items() if g == "marts"), key=lambda k: k.to_user_string()
)



def _close_months(con, months: list[str], run_id: str, trigger: str | None) -> tuple[list[dict], list[str], list[str]]:
    """Rows written to audit.month_close, the months skipped as load-only (the opening month), and the months
    not reportable yet (no practices delivery: int_month_ends stops at the latest one)."""
    ddl.apply(con, "audit_runs")
    opening, latest = con.execute(
        "select min(month), max(month) from audit.current_deliveries where family = 'practices'"
    ).fetchone()
    first_kpi = add_months(opening, 1) if opening else None
    load_only = [m for m in months if first_kpi is None or parse_month(m) < first_kpi]
    awaiting = [m for m in months if m not in load_only and parse_month(m) > latest]
    to_close = [m for m in months if m not in load_only and m not in awaiting]
    rows, empty = [], []
    closed_at = datetime.now()
    for m in to_close:
        period = parse_month(m)
        kpi_rows, scored, structures = con.execute(
            "select count(*), count(score), count(distinct structure_code) from marts.fct_kpi_scores "
            "where period_end = last_day(?::date)",
            [period],
        ).fetchone()
        last_delivery = con.execute(
            "select max(delivery_id) from audit.current_deliveries where month <= ?", [period]
        ).fetchone()[0]
        if kpi_rows == 0:
            empty.append(m)
        rows.append({"period": period, "kpi_rows": kpi_rows, "scored_rows": scored, "structures": structures,
                     "last_delivery_id": last_delivery})
    if empty:
        raise dg.Failure(
            description="no KPI scores for " + ", ".join(empty) + " although practices were delivered up to "
            f"{latest:%Y-%m}: the marts are incomplete, these months cannot be closed",
            allow_retries=False,
        )
    con.execute("begin transaction")
    for r in rows:
        con.execute(
            "insert into audit.month_close values (?, ?, ?, ?, ?, ?, ?, ?)",
            [r["period"], run_id, closed_at, trigger, r["kpi_rows"], r["scored_rows"], r["structures"],
             r["last_delivery_id"]],
        )
    con.execute("commit")
    return rows, load_only, awaiting


@dg.asset(
    key="month_close",
    group_name="publish",
    deps=MARTS_KEYS,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=RETRY_POLICY,
    op_tags={"piramide/writer": "warehouse"},
    kinds={"duckdb"},
    description="Month close: for each month of the run's partition range, records in audit.month_close that "
    "its KPIs (marts.fct_kpi_scores) were rebuilt from the current deliveries, with row counts and the last "
    "delivery included. The opening month is load-only (no KPIs); a month after the latest practices delivery "
    "is left open; a reportable month without KPI rows fails the close.",
)
def month_close(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    months = sorted(context.partition_keys)
    trigger = context.run.tags.get("piramide/trigger")
    with retry_only_transient("closing the months"), warehouse.get_connection() as con:
        spooled = drain_run_failure_spool(con)
        if spooled:
            context.log.info(f"wrote {spooled} run failure(s) spooled while the warehouse was locked")
        rows, load_only, awaiting = _close_months(con, months, context.run.run_id, trigger)
    for m in load_only:
        context.log.info(f"{m}: opening month, load only (no KPIs)")
    for m in awaiting:
        context.log.warning(f"{m}: not closed, no practices delivery for it yet (other families loaded)")
    table = "\n".join(
        f"| {r['period']:%Y-%m} | {r['kpi_rows']:,} | {r['scored_rows']:,} | {r['structures']} |" for r in rows
    )
    return dg.MaterializeResult(
        metadata={
            "months_closed": dg.MetadataValue.int(len(rows)),
            "load_only_months": ", ".join(load_only),
            "months_awaiting_practices": ", ".join(awaiting),
            "closes": dg.MetadataValue.md(
                "| month | KPI rows | scored | structures |\n|---|---|---|---|\n" + table if rows else "none"
            ),
        }
    )


@dg.asset(
    key="bi_published_copy",
    group_name="publish",
    # Last: after the results, the summary page, the report and the docs, so the copy carries this run's checks.
    deps=[*MARTS_KEYS, month_close.key, dg.AssetKey(["audit", "dq_results"]), dg.AssetKey("monthly_report"),
          dg.AssetKey("dbt_docs")],
    retry_policy=RETRY_POLICY,
    kinds={"duckdb"},
    description="The read-only copy of the warehouse that BI tools open (settings().published_warehouse: "
    "<warehouse folder>/published/<same file name>), the last step of every green run, so it carries the run's "
    "audit.dq_results. What BI reads (marts, reference, audit, publish, scenario; no extract rows) written under "
    "the writer lock, verified read-only against the source, atomic rename. Readers never see a partial state.",
)
def bi_published_copy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    with retry_only_transient("publishing the BI copy"):
        result = publish()
    progress.info(f"BI copy: {result.size_bytes / 1e6:,.1f} MB, {result.tables} tables, {result.seconds:.1f} s")
    if result.unbound_views:
        context.log.warning("views that do not bind in the copy: " + ", ".join(result.unbound_views))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "size_mb": round(result.size_bytes / 1e6, 1),
            "tables": result.tables,
            "rows": result.rows,
            "seconds": round(result.seconds, 2),
        }
    )


# Written outside the job, by `piramide publish` and `piramide whatif --save` (append-only; dbt reads them as
# sources): declared so the graph shows where fct_published_scores and fct_scenario_scores come from.
external_assets = [
    dg.AssetSpec(
        ["publish", "publications"],
        group_name="publish",
        kinds={"duckdb"},
        description="The append-only publications of month-ends (publish.publications, published_scores, "
        "published_pyramid), written by `piramide publish` and never by a run: the source of "
        "marts.fct_published_scores.",
    ),
    dg.AssetSpec(
        ["scenario", "saved_scores"],
        group_name="publish",
        kinds={"duckdb"},
        description="Saved what-if scenarios (scenario.saved_scores), written by `piramide whatif --save`: the "
        "source of marts.fct_scenario_scores.",
    ),
]
