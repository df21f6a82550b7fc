-- KPIs delivered by other systems in the measures extract (KPI_SPEC 4, 6.1). Each measure feeds the
-- quantity of its node (seeds measure_codes.node_code -> kpi_nodes.quantity_code).
-- Stocks (a percentage, an index, a follower count) are the value at the month-end, only at the structure
-- they are delivered for: they are not additive, so they are never rolled up, and a month without a value
-- has no row (the leaf is missing). Flows are rolled up (own rows plus descendants', so the national
-- remainder of disposals adds to the regions' and the ECO office's pieces count in the nation) and summed
-- year to date; a month in which a flow measure was not delivered at all has no row, and a later month
-- whose year-to-date lacks a month is flagged 'incomplete_ytd'.
with codes as (
    select
        mc.measure_code,
        mc.stock_or_flow,
        n.quantity_code
    from {{ ref('measure_codes') }} as mc
    inner join {{ ref('kpi_nodes') }} as n on mc.node_code = n.node_code
),

stocks as (
    select
        me.period_end,
        m.structure_code,
        c.quantity_code,
        m.value
    from {{ ref('stg_measures') }} as m
    inner join codes as c on m.measure_code = c.measure_code
    inner join {{ ref('int_month_ends') }} as me on m.month_start = me.month_start
    where c.stock_or_flow = 'stock'
    -- The latest value of the month, should a system deliver more than one period end in it.
    qualify row_number() over (
        partition by me.period_end, m.structure_code, c.quantity_code
        order by m.period_end desc
    ) = 1
),

delivered as (
    select distinct
        measure_code,
        month_start
    from {{ ref('stg_measures') }}
),

flow_monthly as (
    select
        anc.ancestor_code as structure_code,
        m.measure_code,
        c.quantity_code,
        m.month_start,
        sum(m.value) as value
    from {{ ref('stg_measures') }} as m
    inner join codes as c on m.measure_code = c.measure_code
    inner join {{ ref('int_structure_ancestors') }} as anc on m.structure_code = anc.structure_code
    where c.stock_or_flow = 'flow'
    group by all
),

spine as (
    select unnest(generate_series(date_trunc('year', min(month_start)), max(month_start), interval 1 month))::date
        as month_start
    from {{ ref('int_month_ends') }}
),

flow_grid as (
    select distinct
        f.structure_code,
        f.measure_code,
        f.quantity_code,
        s.month_start
    from flow_monthly as f
    inner join spine as s on year(f.month_start) = year(s.month_start)
),

flow_ytd as (
    select
        g.structure_code,
        g.quantity_code,
        g.month_start,
        d.measure_code is not null as is_delivered,
        sum(coalesce(f.value, 0)) over ytd as ytd_value,
        sum(case when d.measure_code is null then 1 else 0 end) over ytd as missing_months
    from flow_grid as g
    left join flow_monthly as f
        on g.structure_code = f.structure_code and g.measure_code = f.measure_code and g.month_start = f.month_start
    left join delivered as d on g.measure_code = d.measure_code and g.month_start = d.month_start
    window ytd as (
        partition by g.structure_code, g.measure_code, year(g.month_start)
        order by g.month_start
        rows between unbounded preceding and current row
    )
)

select
    period_end,
    structure_code,
    quantity_code,
    value as numerator,
    null::double as denominator,
    value as actual_value,
    null::double as value_vs_budget,
    null::varchar as dq_note
from stocks
union all
select
    me.period_end,
    f.structure_code,
    f.quantity_code,
    f.ytd_value as numerator,
    null as denominator,
    f.ytd_value as actual_value,
    null as value_vs_budget,
    case when f.missing_months > 0 then 'incomplete_ytd' end as dq_note
from flow_ytd as f
inner join {{ ref('int_month_ends') }} as me on f.month_start = me.month_start
where f.is_delivered
