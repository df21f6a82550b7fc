"""The plan's own arithmetic as suites (`plan_*`): a failed expectation there is a finding, never a failure."""

# ruff: noqa: S608 - queries composed from contract identifiers, seed codes and config numbers, never input
from __future__ import annotations

from pathlib import Path

from orchestration.config import ROOT
from orchestration.quality.suites import PLAN_SUITES, REFERENCE_DIR, SuiteDef, _rows, config

# --------------------------------------------------------------------------------------------------------------
# The plan's own arithmetic (findings)
# --------------------------------------------------------------------------------------------------------------


def _csv(name: str, root: Path | None) -> str:
    """read_csv of a reference file: absolute when validating, relative to the repository in the JSON."""
    path = REFERENCE_DIR / name
    shown = path.relative_to(ROOT).as_posix() if root is None else path.as_posix()
    shown = shown.replace("'", "''")  # a string literal: the repository's path may hold a quote
    return f"read_csv('{shown}', header = true)"


def _hierarchy_sql(tol: float, *, within: bool, table: str, value: str, group: str | None) -> str:
    """Items against the signed sum of their children: beyond the tolerance, or inside it but not exact."""
    g_sel = f"p.{group}, " if group else ""
    g_out = f"{group}, " if group else ""
    on = f" and c.{group} = p.{group}" if group else ""
    cond = f"abs(diff) > {tol!r}" if not within else f"abs(diff) > 0 and abs(diff) <= {tol!r}"
    return f"""with sums as (
                   select {g_sel}p.item_code, any_value(p.{value}) as printed,
                       sum(c.sign_in_parent * c.{value}) as components,
                       any_value(p.{value}) - sum(c.sign_in_parent * c.{value}) as diff
                   from {table} as p inner join {table} as c on c.parent_item_code = p.item_code{on}
                   group by {g_sel}p.item_code)
               select {g_out}item_code, printed, components, diff from sums where {cond}"""


B = "(select * from {batch})"  # the batch as a derived table, so that it can take an alias


def plan_suites(root: Path | None = ROOT) -> list[SuiteDef]:
    cfg = config()
    tol = float(cfg["reconciliation_tolerance_eur"])
    out: list[SuiteDef] = []

    r = [
        _rows("reconciliation.items_sum_to_parent", "reconciliation", "finding",
              f"Each IEEP item equals the signed sum of its sub-items, sections and total included, within "
              f"±{tol:g} EUR (seeds/ieep_items.csv, plan L7951-8005).",
              _hierarchy_sql(tol, within=False, table=B, value="national_target_2021_eur", group=None)),
        _rows("reconciliation.items_rounding", "reconciliation", "finding",
              f"IEEP items whose sub-items sum to within ±{tol:g} EUR but not exactly (the plan's rounding).",
              _hierarchy_sql(tol, within=True, table=B, value="national_target_2021_eur", group=None)),
        _rows("reconciliation.sections_match_targets", "reconciliation", "finding",
              "The IEEP section subtotals equal the national 2021 targets of IEEP.ENTRATE and IEEP.PRESTAZIONI "
              f"(seeds/kpi_targets.csv) within ±{tol:g} EUR.",
              f"""select i.item_code, i.national_target_2021_eur, t.target_value from (select * from {{batch}}) as i
                  inner join reference.kpi_targets as t
                    on t.year = 2021
                   and t.structure_code in (select structure_code from reference.structures where level = 'national')
                   and t.node_code = case i.section when 'contribution_revenue' then 'IEEP.ENTRATE'
                                                    when 'benefits' then 'IEEP.PRESTAZIONI' end
                  where i.item_level = 1 and abs(i.national_target_2021_eur - t.target_value) > {tol!r}"""),
    ]
    out.append(SuiteDef("plan_ieep_items", "plan", "The plan's national IEEP table (seeds/ieep_items.csv).",
                        PLAN_SUITES["plan_ieep_items"], table="reference.ieep_items",
                        key_columns=("item_code",), rules=r))

    q = f"select * from {_csv('ieep_targets_by_region.csv', root)}"
    r = [
        _rows("reconciliation.items_sum_to_parent", "reconciliation", "finding",
              f"For the nation and each regional entity, each IEEP item equals the signed sum of its sub-items "
              f"within ±{tol:g} EUR (Tabella B, L7949-8305).",
              _hierarchy_sql(tol, within=False, table=B, value="target_2021_eur", group="structure_code")),
        _rows("reconciliation.items_rounding", "reconciliation", "finding",
              f"Items whose sub-items sum to within ±{tol:g} EUR but not exactly (the plan's rounding).",
              _hierarchy_sql(tol, within=True, table=B, value="target_2021_eur", group="structure_code")),
        _rows("reconciliation.regions_sum_to_national", "reconciliation", "finding",
              f"Each item's regional targets sum to the national target within ±{tol:g} EUR.",
              f"""select n.item_code, any_value(n.target_2021_eur) as national, sum(r.target_2021_eur) as regions
                  from (select * from {{batch}}) as n inner join (select * from {{batch}}) as r
                    on r.item_code = n.item_code and r.structure_code <> n.structure_code
                  where n.structure_type = 'national'
                  group by n.item_code having abs(any_value(n.target_2021_eur) - sum(r.target_2021_eur)) > {tol!r}"""),
        _rows("reconciliation.regions_rounding", "reconciliation", "finding",
              f"Items whose regional targets sum to within ±{tol:g} EUR of the national target but not exactly.",
              f"""select n.item_code, any_value(n.target_2021_eur) as national, sum(r.target_2021_eur) as regions
                  from (select * from {{batch}}) as n inner join (select * from {{batch}}) as r
                    on r.item_code = n.item_code and r.structure_code <> n.structure_code
                  where n.structure_type = 'national'
                  group by n.item_code
                  having abs(any_value(n.target_2021_eur) - sum(r.target_2021_eur)) between 1e-9 and {tol!r}"""),
    ]
    out.append(SuiteDef("plan_ieep_by_region", "plan",
                        "The plan's IEEP targets by item and regional entity (expectations/reference).",
                        PLAN_SUITES["plan_ieep_by_region"], query=q,
                        source="expectations/reference/ieep_targets_by_region.csv",
                        key_columns=("structure_code", "item_code"), rules=r))

    q = f"select * from {_csv('ieep_results_2020.csv', root)}"
    r = []
    for measure in ("target_2020_eur", "actual_2020_eur"):
        label = measure.split("_")[0]
        r.append(_rows(
            f"reconciliation.{label}_sum_to_parent", "reconciliation", "finding",
            f"Each IEEP 2020 {label} equals the signed sum of its components within ±{tol:g} EUR "
            "(plan L1265-1363).",
            _hierarchy_sql(tol, within=False, table=B, value=measure, group=None)))
    out.append(SuiteDef("plan_ieep_2020", "plan", "The plan's IEEP 2020 results table (expectations/reference).",
                        PLAN_SUITES["plan_ieep_2020"], query=q,
                        source="expectations/reference/ieep_results_2020.csv", key_columns=("item_code",), rules=r))

    # The national and the regional sum of each additive target, for the two reconciliations below.
    regional_sums = """with t as (
                      select t.node_code, t.year, s.level, t.target_value from (select * from {batch}) as t
                      inner join reference.structures as s on t.structure_code = s.structure_code
                      inner join reference.kpi_nodes as k on t.node_code = k.node_code
                      where k.period_basis = 'ytd_flow' and k.unit <> 'achievement')
                  select node_code, year, sum(target_value) filter (where level = 'national') as national,
                      sum(target_value) filter (where level in ('regional', 'central')) as regions
                  from t group by node_code, year
                  having count(*) filter (where level in ('regional', 'central')) > 0"""
    r = [
        _rows("reconciliation.regional_targets_sum_to_national", "reconciliation", "finding",
              f"For additive targets (period basis ytd_flow, amounts not achievements), the regional entities' "
              f"and central producers' targets sum to the national target within ±{tol:g}.",
              regional_sums + f"""
                     and abs(national - regions) > {tol!r}"""),
        _rows("reconciliation.regional_targets_rounding", "reconciliation", "finding",
              f"Additive targets whose regional sum is within ±{tol:g} of the national target but not exact.",
              regional_sums + f"""
                     and abs(national - regions) between 1e-9 and {tol!r}"""),
        _rows("targets.no_zero_on_scored_leaf", "targets", "error",
              "No scored leaf has a zero target (docs/decisions.md §2: a configuration error, never a plan finding).",
              """select t.node_code, t.structure_code, t.year from (select * from {batch}) as t
                 inner join reference.kpi_nodes as k on t.node_code = k.node_code
                 where k.kind in ('leaf', 'composite') and t.target_value = 0"""),
    ]
    out.append(SuiteDef("plan_targets", "plan", "The plan's targets (seeds/kpi_targets.csv).",
                        PLAN_SUITES["plan_targets"], table="reference.kpi_targets",
                        key_columns=("node_code", "structure_code", "year"), rules=r))

    r = [
        _rows("placement.uncertain_parent", "placement", "finding",
              "Structures the seed marks as printed under a doubtful parent (e.g. a town listed under another "
              "region's block): the roll-up follows the plan as printed.",
              """select structure_code, parent_code, plan_line from {batch}
                 where note ilike 'UNCERTAIN PARENT%'"""),
        _rows("referential.parent_exists", "referential", "error", "Every parent is a structure.",
              """select structure_code from {batch}
                 where parent_code is not null and parent_code not in (select structure_code from {batch})"""),
    ]
    out.append(SuiteDef("plan_structures", "plan", "The plan's structure tree (seeds/structures.csv).",
                        PLAN_SUITES["plan_structures"], table="reference.structures",
                        key_columns=("structure_code",), rules=r))

    q = f"select * from {_csv('standard_costs_by_cluster.csv', root)}"
    lo, hi = (float(x) for x in cfg["standard_cost_ratio_band"])
    r = []
    for cur, avg in cfg["standard_cost_pairs"]["three_year_average"]:
        r.append(_rows(
            f"plausibility.{cur}_vs_3y", "plausibility", "finding",
            f"{cur} lies within {lo:g}-{hi:g} times its three-year average {avg} (plan L8312-8499).",
            f"""select a.structure_code, a.value_budget_2021 as this_year, b.value_budget_2021 as three_year,
                    a.seed_line from (select * from {{batch}}) as a
                inner join (select * from {{batch}}) as b on a.structure_code = b.structure_code
                where a.indicator_code = '{cur}' and b.indicator_code = '{avg}'
                  and (a.value_budget_2021 < {lo!r} * b.value_budget_2021
                       or a.value_budget_2021 > {hi!r} * b.value_budget_2021)"""))
    for trend, level in cfg["standard_cost_pairs"]["trend_equals_level"]:
        r.append(_rows(
            f"plausibility.{trend}_differs_from_level", "plausibility", "finding",
            f"{trend} (an index) differs from {level} (an amount): equal values suggest a copy error.",
            f"""select a.structure_code, a.value_budget_2021 as trend, b.value_budget_2021 as level, a.seed_line
                from (select * from {{batch}}) as a
                inner join (select * from {{batch}}) as b on a.structure_code = b.structure_code
                where a.indicator_code = '{trend}' and b.indicator_code = '{level}'
                  and a.value_budget_2021 = b.value_budget_2021"""))
    out.append(SuiteDef("plan_standard_costs", "plan",
                        "The plan's standard-cost annex by regional entity (expectations/reference).",
                        PLAN_SUITES["plan_standard_costs"], query=q,
                        source="expectations/reference/standard_costs_by_cluster.csv",
                        key_columns=("structure_code",), rules=r))
    return out
