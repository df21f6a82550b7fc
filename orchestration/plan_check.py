"""`piramide plan check`: the plan's seeds checked as data, straight from the CSV files (no warehouse).

Each check is one SQL query over the seeds read with DuckDB's read_csv and returns what is wrong, so an operator
who adds next year's targets (a file, no code) learns exactly what is still missing before any build:
- weights: a parent's children sum to 1 at every structure level (perspective_weights over kpi_nodes), and so
  do the parts of a composite and the component weights of the quality and Customer Care indices;
- targets: every scored leaf, composite and composite part has, for the year, a target at every structure of
  every level where it applies: its own row, the national one where target_fallbacks says so, or a rule
  (target_rules, when that seed exists); milestone leaves need a project output open in the year;
- profiles: quarter-ends 3/6/9/12, non-decreasing, 1 at month 12, on a ytd node;
- polarity and caps: +1/-1 and a non-negative cap on every node, a period basis and a unit on every scored one;
- orphans: every parent exists and leads to the root, every node has an applicability row per level, a node
  applies only where its parent does (the root's children excepted: PG is each structure's scorecard), and
  every seed row names a known node and structure.
Errors make the command exit 1; warnings (e.g. a milestone leaf with no output in the year, hence absent) do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.config import SEEDS_DIR

LEVELS = ("national", "regional", "provincial", "central")
REQUIRED = ("kpi_nodes", "kpi_applicability", "perspective_weights", "kpi_targets", "target_fallbacks",
            "target_profiles", "structures", "project_leaf", "quality_weights", "customer_care_weights",
            "channel_standards", "kpi_parameters")
OPTIONAL = ("target_rules",)


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning
    check: str
    subject: str
    message: str


# The tree's weights at each level, as int_kpi_weights computes them: perspective_weights over kpi_nodes.
TREE_WEIGHTS = """
    create view tree_weights as
    select n.node_code, n.parent_code, l.level, coalesce(pw.weight, n.weight) as weight
    from kpi_nodes as n cross join levels as l
    left join perspective_weights as pw on pw.node_code = n.node_code and pw.level = l.level
    where n.kind not in ('part', 'reported') and n.parent_code is not null
"""

WEIGHTS = """
    select 'error', 'weights', parent_code || ' @ ' || level,
        'the weights of its children sum to ' || round(sum(weight), 9)::varchar || ', not 1 ('
        || string_agg(node_code || ' ' || coalesce(weight::varchar, 'none'), ', ' order by node_code) || ')'
    from tree_weights
    group by parent_code, level
    having abs(sum(weight) - 1) > 1e-9 or count(weight) < count(*)
    union all
    select 'error', 'weights', parent_code || ' (parts)',
        'part weights sum to ' || round(sum(part_weight), 9)::varchar || ', not 1'
    from kpi_nodes
    where kind = 'part'
    group by parent_code
    having count(part_weight) > 0 and (abs(sum(part_weight) - 1) > 1e-9 or count(part_weight) < count(*))
    union all
    select 'error', 'weights', 'quality_weights', 'indicator weights sum to ' || round(sum(weight), 9)::varchar
    from quality_weights having abs(sum(weight) - 1) > 1e-9
    union all
    select 'error', 'weights', 'customer_care_weights ' || parent_component,
        'component weights sum to ' || round(sum(weight), 9)::varchar
    from customer_care_weights group by parent_component having abs(sum(weight) - 1) > 1e-9
    union all
    select 'error', 'weights', 'channel_standards', 'channel weights sum to ' || round(sum(weight), 9)::varchar
    from channel_standards having abs(sum(weight) - 1) > 1e-9
    union all
    select 'error', 'weights', p.node_code || ' @ ' || p.level,
        'perspective_weights gives parent ' || p.parent_code || ', kpi_nodes '
        || coalesce(n.parent_code, 'none')
    from perspective_weights as p inner join kpi_nodes as n on p.node_code = n.node_code
    where p.parent_code is distinct from n.parent_code
"""

POLARITY = """
    select 'error', 'polarity', node_code, 'polarity is ' || coalesce(polarity::varchar, 'not set') || ', not +1 or -1'
    from kpi_nodes where polarity is null or polarity not in (1, -1)
    union all
    select 'error', 'caps', node_code, 'cap_high is ' || coalesce(cap_high::varchar, 'not set')
    from kpi_nodes where cap_high is null or cap_high < 0
    union all
    select 'error', 'period basis', node_code, 'period_basis is ' || coalesce(period_basis, 'not set')
    from kpi_nodes
    where kind in ('leaf', 'composite', 'part', 'reported')
        and (period_basis is null or period_basis not in ('ytd_flow', 'ytd_ratio', 'stock', 'completion'))
    union all
    select 'error', 'unit', node_code, 'no unit'
    from kpi_nodes where kind in ('leaf', 'composite', 'part', 'reported') and unit is null
"""

ORPHANS = """
    with recursive reach as (
        select node_code from kpi_nodes where parent_code is null
        union all
        select n.node_code from kpi_nodes as n inner join reach as r on n.parent_code = r.node_code
    ),

    applies as (
        select node_code, level, bool_or(applies) as applies, count(*) as n_rows
        from kpi_applicability group by all
    )

    select 'error', 'orphans', n.node_code, 'parent ' || n.parent_code || ' is not a node'
    from kpi_nodes as n
    where n.parent_code is not null and n.parent_code not in (select node_code from kpi_nodes)
    union all
    select 'error', 'orphans', n.node_code, 'does not lead to the root (a cycle or a missing parent)'
    from kpi_nodes as n
    where n.node_code not in (select node_code from reach)
        and (n.parent_code is null or n.parent_code in (select node_code from kpi_nodes))
    union all
    select 'error', 'orphans', n.node_code || ' @ ' || l.level,
        case when a.node_code is null then 'no kpi_applicability row'
            else a.n_rows::varchar || ' kpi_applicability rows' end
    from kpi_nodes as n cross join levels as l
    left join applies as a on n.node_code = a.node_code and l.level = a.level
    where a.node_code is null or a.n_rows > 1
    union all
    select 'error', 'orphans', a.node_code || ' @ ' || a.level,
        'applies where its parent ' || n.parent_code || ' does not: its rows would have no parent'
    from applies as a
    inner join kpi_nodes as n on a.node_code = n.node_code
    inner join kpi_nodes as parent on n.parent_code = parent.node_code
    left join applies as pa on n.parent_code = pa.node_code and a.level = pa.level
    where a.applies and not coalesce(pa.applies, false) and parent.kind <> 'root'
    union all
    select 'error', 'orphans', 'kpi_applicability ' || node_code || ' @ ' || level, 'unknown node or level'
    from kpi_applicability
    where node_code not in (select node_code from kpi_nodes) or level not in (select level from levels)
    union all
    select 'error', 'orphans', 'perspective_weights ' || node_code || ' @ ' || level, 'unknown node or level'
    from perspective_weights
    where node_code not in (select node_code from kpi_nodes) or level not in (select level from levels)
    union all
    select 'error', 'orphans', 'kpi_targets ' || node_code || ' ' || structure_code || ' ' || year::varchar,
        'unknown node or structure'
    from kpi_targets
    where node_code not in (select node_code from kpi_nodes)
        or structure_code not in (select structure_code from structures)
    union all
    select 'error', 'orphans', 'target_profiles ' || node_code, 'unknown node'
    from target_profiles where node_code not in (select node_code from kpi_nodes)
    union all
    select 'error', 'orphans', 'project_leaf ' || leaf_code, 'unknown node'
    from project_leaf where leaf_code not in (select node_code from kpi_nodes)
"""

PROFILES = """
    with p as (
        select node_code, list(month order by month) as months, list(share order by month) as shares,
            max(share) filter (where month = 12) as year_end
        from target_profiles group by node_code
    )

    select 'error', 'profiles', p.node_code, 'quarter-ends ' || p.months::varchar || ', not [3, 6, 9, 12]'
    from p where p.months <> [3, 6, 9, 12]
    union all
    select 'error', 'profiles', p.node_code, 'shares ' || p.shares::varchar || ' decrease or leave (0, 1]'
    from p
    where p.shares <> list_sort(p.shares) or list_min(p.shares) <= 0 or list_max(p.shares) > 1 + 1e-12
    union all
    select 'error', 'profiles', p.node_code,
        'share at month 12 is ' || coalesce(p.year_end::varchar, 'missing') || ', not 1'
    from p where p.year_end is null or abs(p.year_end - 1) > 1e-12
    union all
    select 'error', 'profiles', p.node_code, 'a profile on a ' || coalesce(n.period_basis, 'no') || ' period basis'
    from p inner join kpi_nodes as n on p.node_code = n.node_code
    where n.period_basis is null or n.period_basis not in ('ytd_flow', 'ytd_ratio')
"""


# A rule (target_rules) without a structure covers every structure where the node applies. A line names at
# most five structures without a target, then "...".
TARGETS = """
    with years as (select unnest(?::integer[]) as year),

    scored as (
        -- Leaves and composites are scored; a composite's parts need targets for its achievement.
        select n.node_code, n.period_basis
        from kpi_nodes as n left join kpi_nodes as parent on n.parent_code = parent.node_code
        where n.kind in ('leaf', 'composite') or (n.kind = 'part' and parent.kind = 'composite')
    ),

    cells as (
        select s.node_code, s.period_basis, st.structure_code, st.level, a.absent_without_target
        from scored as s
        inner join kpi_applicability as a on s.node_code = a.node_code and a.applies
        inner join structures as st on a.level = st.level
        where s.period_basis is distinct from 'completion'
    ),

    missing as (
        select sc.node_code, sc.level, y.year, sc.structure_code
        from cells as sc cross join years as y
        left join target_fallbacks as fb on sc.period_basis = fb.period_basis
        where not sc.absent_without_target
            and not exists (select 1 from kpi_targets as t where t.node_code = sc.node_code
                            and t.structure_code = sc.structure_code and t.year = y.year)
            and not (coalesce(fb.takes_national_target, false)
                     and exists (select 1 from kpi_targets as t where t.node_code = sc.node_code
                                 and t.structure_code = 'nazionale' and t.year = y.year))
            and not exists (select 1 from target_rules as r where r.node_code = sc.node_code and r.year = y.year
                            and (r.structure_code is null or r.structure_code = sc.structure_code))
    ),

    totals as (
        select node_code, level, count(*) as n_structures from cells group by all
    ),

    milestones as (
        select s.node_code, y.year
        from scored as s cross join years as y
        where s.period_basis = 'completion'
            and exists (select 1 from kpi_applicability as a where a.node_code = s.node_code and a.applies)
            and not exists (
                select 1 from project_leaf as p
                where p.leaf_code = s.node_code and year(p.planned_start::date) <= y.year
                    and year(coalesce(p.due_date::date, make_date(year(p.planned_start::date), 12, 31))) >= y.year)
    )

    select 'error', 'targets', m.node_code || ' @ ' || m.level || ' ' || m.year::varchar,
        case when count(*) = 1 and min(m.structure_code) = 'nazionale' then 'no target'
        else count(*)::varchar || ' of ' || any_value(t.n_structures)::varchar || ' structures without a target ('
            || array_to_string(list_slice(list(m.structure_code order by m.structure_code), 1, 5), ', ')
            || case when count(*) > 5 then ', ...' else '' end || ')'
        end
    from missing as m inner join totals as t on m.node_code = t.node_code and m.level = t.level
    group by m.node_code, m.level, m.year
    union all
    select 'warning', 'targets', node_code || ' ' || year::varchar,
        'no project output open in the year (project_leaf): the milestone leaf is absent, its siblings re-weighted'
    from milestones
    union all
    select 'error', 'targets', node_code || ' ' || structure_code || ' ' || year::varchar, 'target 0 on a scored node'
    from kpi_targets
    where target_value = 0 and node_code in (select node_code from scored) and year in (select year from years)
"""


def _connect(seeds_dir: Path) -> tuple[duckdb.DuckDBPyConnection, list[Finding]]:
    con = duckdb.connect()
    missing = []
    for name in REQUIRED + OPTIONAL:
        path = seeds_dir / f"{name}.csv"
        if not path.exists():
            if name in REQUIRED:
                missing.append(Finding("error", "seeds", name, f"{path} is missing"))
            continue
        # The table name comes from the lists above, the path is a bound value: no file name becomes SQL.
        con.read_csv(str(path), header=True).to_table(name)
    return con, missing


def plan_years(seeds_dir: Path = SEEDS_DIR) -> list[int]:
    """The plan's years, from kpi_parameters (plan_first_year .. plan_last_year)."""
    con = duckdb.connect()
    try:
        row = con.execute(
            "select max(value) filter (where parameter = 'plan_first_year'), "
            "max(value) filter (where parameter = 'plan_last_year') from read_csv(?, header = true)",
            [str(seeds_dir / "kpi_parameters.csv")],
        ).fetchone()
    finally:
        con.close()
    return list(range(int(row[0]), int(row[1]) + 1))


def check_plan(years: list[int] | None = None, seeds_dir: Path = SEEDS_DIR) -> list[Finding]:
    """Every finding of the plan checks, errors first; `years` defaults to the plan's years."""
    seeds_dir = Path(seeds_dir)
    con, findings = _connect(seeds_dir)
    if findings:
        con.close()
        return findings
    try:
        years = list(years or plan_years(seeds_dir))
        con.execute("create table levels (level varchar)")
        con.executemany("insert into levels values (?)", [(level,) for level in LEVELS])
        con.execute(TREE_WEIGHTS)
        # Without a rules seed no target comes from a rule.
        con.execute("create table if not exists target_rules (node_code varchar, structure_code varchar, year integer)")
        rows = []
        for sql in (WEIGHTS, POLARITY, ORPHANS, PROFILES):
            rows += con.execute(sql).fetchall()
        rows += con.execute(TARGETS, [years]).fetchall()
    finally:
        con.close()
    order = {"error": 0, "warning": 1}
    return sorted((Finding(*r) for r in rows), key=lambda f: (order[f.severity], f.check, f.subject))


def run_plan_check(year: int | None = None, seeds_dir: Path = SEEDS_DIR) -> int:
    """Print the findings; 1 when there is an error, else 0."""
    years = [year] if year else plan_years(seeds_dir)
    findings = check_plan(years, seeds_dir)
    errors = [f for f in findings if f.severity == "error"]
    for f in findings:
        print(f"{f.severity.upper():7} {f.check:<12} {f.subject}: {f.message}")
    span = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    print(f"plan check {span} ({seeds_dir}): {len(errors)} errors, {len(findings) - len(errors)} warnings")
    return 1 if errors else 0
