"""The short national summary `piramide run` ends with: a month-end's production KPIs against the plan."""

from __future__ import annotations

import duckdb

from orchestration.warehouse.connection import connect_reader
from orchestration.warehouse.vocabulary import resolve_period

SUMMARY_KPIS = (
    "PRODUZIONE_LORDA",
    "PRODUCTIVITY",
    "STAFF_PROD_SHARE",
    "IG_PSI",
    "IG_GCAI",
    "IG_FLUSSI",
    "IG_ALTRE",
    "IG_TOTAL",
    "OUTFLOW",
)


def fmt(v, digits=2) -> str:
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def national_rows(con: duckdb.DuckDBPyConnection, period_end) -> list[tuple]:
    return con.execute(
        """
        select s.kpi_code, k.name_it, s.actual_value, s.target_value, t.plan_annual_target, s.score, s.dq_status
        from marts.fct_kpi_scores s
        join marts.dim_kpi k on k.node_code = s.kpi_code
        left join intermediate.int_kpi_targets t
          on t.period_end = s.period_end and t.structure_code = s.structure_code and t.node_code = s.kpi_code
        where s.structure_code = 'nazionale' and s.period_end = ? and list_contains(?, s.kpi_code)
        order by list_position(?, s.kpi_code)
        """,
        [period_end, list(SUMMARY_KPIS), list(SUMMARY_KPIS)],
    ).fetchall()


PYRAMID_ORDER = (
    "VPI", "SP", "PG", "PI", "PG_PROCESSI", "PG_FINANZA", "PG_UTENZA", "PG_SVILUPPO",
    "OBJ_A", "OBJ_B", "OBJ_C", "OBJ_D", "OBJ_E", "OBJ_F", "OBJ_G", "OBJ_H", "OBJ_I",
    "IMP_CONTINUITY", "IMP_AVG_TIME", "IMP_LITIGATION", "IMP_REPUTATION", "IMP_INSPECTION",
)


def pyramid_rows(con: duckdb.DuckDBPyConnection, period_end) -> list[tuple]:
    return con.execute(
        """
        select p.node_code, k.name_en, p.node_level, p.weight, p.score, p.weight_coverage
        from marts.fct_value_pyramid p join marts.dim_kpi k using (node_code)
        where p.structure_code = 'nazionale' and p.period_end = ? and list_contains(?, p.node_code)
        order by list_position(?, p.node_code)
        """,
        [period_end, list(PYRAMID_ORDER), list(PYRAMID_ORDER)],
    ).fetchall()


def print_pyramid(con: duckdb.DuckDBPyConnection, period_end, max_level: int | None = None) -> None:
    print(f"\nThe public value pyramid at {period_end} (national; coverage = share of weight with data)")
    print(f"  {'node':<16} {'weight':>7} {'score':>8} {'coverage':>9}  name")
    for code, name, level, weight, score, cov in pyramid_rows(con, period_end):
        if max_level is not None and level > max_level:
            continue
        indent = "  " * min(level, 2)
        print(f"  {indent + code:<16} {fmt(weight, 2):>7} {fmt(score):>8} {fmt(cov, 3):>9}  {name}")


def print_summary(period: str | None = None, max_level: int | None = None) -> None:
    """The national production KPIs and the pyramid (down to `max_level`, default every level) of a month-end."""
    con = connect_reader()
    try:
        try:
            period_end = resolve_period(con, period)
        except LookupError as exc:
            raise SystemExit(str(exc)) from None
        print(f"National production KPIs at {period_end} (target: month-end target; annual: plan target)")
        print(f"  {'KPI':<18} {'actual':>14} {'target':>14} {'annual':>14} {'score':>8}")
        for code, _name, actual, target, annual, score, dq in national_rows(con, period_end):
            flag = "" if dq == "ok" else f"  [{dq}]"
            print(f"  {code:<18} {fmt(actual):>14} {fmt(target):>14} {fmt(annual):>14} {fmt(score):>8}{flag}")
        print_pyramid(con, period_end, max_level)
    finally:
        con.close()
