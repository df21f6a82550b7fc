"""The last two steps of a run: close the run's months, then publish the BI copy.

`month_close` is the partitioned end of the graph: the dbt models compute every month-end at once, and this
asset records, per month of the run's partition range, that its KPIs were rebuilt from the current deliveries
(`audit.month_close`, one row per month per close, so a re-close after a restatement stays visible).
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class, not a string.
from datetime import datetime

import dagster as dg

from orchestration.defs.automation import drain_run_failure_spool
from orchestration.defs.dbt_assets import piramide_dbt
from orchestration.defs.partitions import add_months, monthly_partitions, parse_month
from orchestration.defs.resilience import RETRY_POLICY, retry_only_transient
from orchestration.ingest.loader import connect
from orchestration.publish_bi import publish

MARTS_KEYS = sorted(
    (k for k, g in piramide_dbt.group_names_by_key.items() if g == "marts"), key=lambda k: k.to_user_string()
)

MONTH_CLOSE_DDL = """
create schema if not exists audit;
create table if not exists audit.month_close (
    period date not null,
    run_id varchar not null,
    closed_at timestamp not null,
    run_trigger varchar,
    kpi_rows bigint not null,
    scored_rows bigint not null,
    structures bigint not null,
    last_delivery_id bigint
);
"""


def _close_months(con, months: list[str], run_id: str, trigger: str | None) -> tuple[list[dict], list[str], list[str]]:
    """Rows written to audit.month_close, the months skipped as load-only (the opening month), and the months
    not reportable yet (no practices delivery: int_month_ends stops at the latest one)."""
    con.execute(MONTH_CLOSE_DDL)
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
def month_close(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    months = sorted(context.partition_keys)
    trigger = context.run.tags.get("piramide/trigger")
    con = connect()
    try:
        with retry_only_transient("closing the months"):
            spooled = drain_run_failure_spool(con)
            if spooled:
                context.log.info(f"wrote {spooled} run failure(s) spooled while the warehouse was locked")
            rows, load_only, awaiting = _close_months(con, months, context.run.run_id, trigger)
    finally:
        con.close()
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
    deps=[*MARTS_KEYS, month_close.key],
    retry_policy=RETRY_POLICY,
    kinds={"duckdb"},
    description="The read-only copy of the warehouse that BI tools open (settings().published_warehouse: "
    "<warehouse folder>/published/<same file name>). Rebuilt after every green run: checkpoint, copy under "
    "the writer lock, verify read-only against the source, atomic rename. Readers never see a partial state.",
)
def bi_published_copy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    with retry_only_transient("publishing the BI copy"):
        result = publish()
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
