-- Month-end targets (docs/decisions.md §5): ytd_flow follows the cumulative profile (linear between quarter-ends
-- from 0 at month 0, or m/12 without a profile); ytd_ratio with a quarterly profile takes the value of the
-- quarter containing the month; stock and other ytd_ratio KPIs take the annual value.
-- DECISION: on a generated sample at scale S, extensive (ytd_flow) targets are multiplied by S (from the
-- sample's manifest, PIRAMIDE_TARGET_SCALE; 1 for real extracts) so that sample scores stay meaningful.
-- A structure without its own target takes the national one when the seed target_fallbacks says so for the
-- KPI's period basis (intensive rates and stocks do, extensive flows do not: docs/decisions.md).
-- The annual targets are the seeded ones and those derived from the plan's rules (int_kpi_plan_targets);
-- target_source says which (seed, or the rule applied).
-- In a what-if run (var scenario) a target override replaces the seed's annual target of that node, structure
-- and year (in plan units, so the sample's scale applies to it as to the seed), and its month-end targets follow
-- the same profile below.
{{ config(tags=['scenario_rescored']) }}
with plan_targets as (
    {%- if scenario_name() | trim == '' %}
    select
        node_code,
        structure_code,
        year,
        target_value,
        plan_line,
        target_source
    from {{ ref('int_kpi_plan_targets') }}
    {%- else %}
    select
        coalesce(o.node_code, t.node_code) as node_code,
        coalesce(o.structure_code, t.structure_code) as structure_code,
        coalesce(o.year, t.year) as year,
        coalesce(o.value, t.target_value) as target_value,
        case when o.node_code is null then t.plan_line::varchar else 'scenario {{ scenario_name() }}' end as plan_line,
        case when o.node_code is null then t.target_source else 'scenario {{ scenario_name() }}' end as target_source
    from {{ ref('int_kpi_plan_targets') }} as t
    full outer join {{ scenario_overrides('target') }} as o
        on t.node_code = o.node_code and t.structure_code = o.structure_code and t.year = o.year
    {%- endif %}
),

anchors as (
    select
        node_code,
        0 as month,
        0.0 as share
    from (select distinct node_code from {{ ref('target_profiles') }})
    union all
    select
        node_code,
        month,
        share
    from {{ ref('target_profiles') }}
),

months as (
    select unnest(range(1, 13)) as month_of_year
),

bounds as (
    -- For each month, the profile anchors around it (quarter-ends, and month 0 at share 0).
    select
        p.node_code,
        m.month_of_year,
        max(p.month) filter (where p.month <= m.month_of_year) as lo_month,
        min(p.month) filter (where p.month >= m.month_of_year) as hi_month
    from (select distinct node_code from anchors) as n
    cross join months as m
    inner join anchors as p on n.node_code = p.node_code
    group by all
),

anchored as (
    select
        b.node_code,
        b.month_of_year,
        case
            when b.hi_month = b.lo_month then lo.share
            else lo.share + (hi.share - lo.share) * (b.month_of_year - b.lo_month) / (b.hi_month - b.lo_month)
        end as flow_share,
        hi.share as quarter_share
    from bounds as b
    inner join anchors as lo on b.node_code = lo.node_code and b.lo_month = lo.month
    inner join anchors as hi on b.node_code = hi.node_code and b.hi_month = hi.month
),

profile as (
    select
        n.node_code,
        m.month_of_year,
        case
            when a.node_code is null
                then case when n.period_basis = 'ytd_flow' then m.month_of_year / 12.0 else 1.0 end
            when n.period_basis = 'ytd_flow' then a.flow_share
            when n.period_basis = 'ytd_ratio' then a.quarter_share
            else 1.0
        end as profile_share
    from {{ ref('kpi_nodes') }} as n
    cross join months as m
    left join anchored as a on n.node_code = a.node_code and m.month_of_year = a.month_of_year
),

structure_targets as (
    select
        t.node_code,
        s.structure_code,
        t.year,
        coalesce(own.target_value, case when fb.takes_national_target then nat.target_value end)
        * case when n.period_basis = 'ytd_flow' and n.kind <> 'composite' then {{ target_scale() }} else 1 end
            as annual_target,
        coalesce(own.target_value, case when fb.takes_national_target then nat.target_value end)
            as plan_annual_target,
        coalesce(own.plan_line, case when fb.takes_national_target then nat.plan_line end)::varchar
            as target_plan_line,
        coalesce(own.target_source, case when fb.takes_national_target then 'national ' || nat.target_source end)
            as target_source
    from (
        select distinct
            node_code,
            year
        from plan_targets
    ) as t
    inner join {{ ref('kpi_nodes') }} as n on t.node_code = n.node_code
    left join {{ ref('target_fallbacks') }} as fb on n.period_basis = fb.period_basis
    cross join {{ ref('structures') }} as s
    left join plan_targets as own
        on t.node_code = own.node_code and t.year = own.year and s.structure_code = own.structure_code
    left join plan_targets as nat
        on t.node_code = nat.node_code and t.year = nat.year and nat.structure_code = 'nazionale'
)

select
    me.period_end,
    st.structure_code,
    st.node_code,
    st.annual_target,
    st.plan_annual_target,
    case when coalesce(p.profile_share, 1.0) = 0 then null else st.annual_target * coalesce(p.profile_share, 1.0) end
        as target_value,
    p.profile_share,
    st.target_plan_line,
    st.target_source
from structure_targets as st
inner join {{ ref('int_month_ends') }} as me on st.year = me.year
left join profile as p on st.node_code = p.node_code and me.month_of_year = p.month_of_year
where st.annual_target is not null
