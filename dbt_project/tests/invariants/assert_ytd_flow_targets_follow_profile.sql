-- Month-end targets of ytd_flow KPIs (docs/decisions.md §5), recomputed for every month of every year from the seeds
-- alone: the annual target of kpi_targets times the cumulative share of the month, read off target_profiles
-- (quarter-end shares L4493-4497, linear in between from 0 at month 0) or m/12 without a profile. On a
-- generated sample the extensive targets carry the sample's scale. A missing month-end target fails too.
with anchors as (
    select
        node_code,
        month,
        share
    from {{ ref('target_profiles') }}
    union all
    select distinct
        node_code,
        0 as month,
        0.0 as share
    from {{ ref('target_profiles') }}
),

expected as (
    select
        me.period_end,
        t.structure_code,
        t.node_code,
        t.target_value * {{ target_scale() }} * case
            when hi.node_code is null then me.month_of_year / 12.0
            else lo.share + (hi.share - lo.share) * (me.month_of_year - lo.month) / (hi.month - lo.month)
        end as expected_target
    from {{ ref('kpi_targets') }} as t
    inner join {{ ref('kpi_nodes') }} as n on t.node_code = n.node_code
    inner join {{ ref('int_month_ends') }} as me on t.year = me.year
    left join anchors as hi on t.node_code = hi.node_code and hi.month = 3 * ceil(me.month_of_year / 3)
    left join anchors as lo on t.node_code = lo.node_code and lo.month = 3 * ceil(me.month_of_year / 3) - 3
    where n.period_basis = 'ytd_flow' and n.kind <> 'composite'
)

select
    e.*,
    tg.target_value
from expected as e
left join {{ ref('int_kpi_targets') }} as tg
    on e.period_end = tg.period_end and e.structure_code = tg.structure_code and e.node_code = tg.node_code
where
    tg.target_value is null
    or abs(tg.target_value - e.expected_target) > 1e-9 * greatest(1, abs(e.expected_target))
