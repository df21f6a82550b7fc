-- KPIs delivered by other systems in the measures extract (docs/decisions.md §8, §11). Each measure feeds the
-- quantity of its node (seeds measure_codes.node_code -> kpi_nodes.quantity_code).
-- Stocks (a percentage, an index, a follower count) are the value at the month-end, only at the structure
-- they are delivered for: they are not additive, so they are never rolled up, and a month without a value
-- has no row (the leaf is missing). Flows are rolled up (own rows plus descendants', so the national
-- remainder of disposals adds to the regions' and the ECO office's pieces count in the nation) and summed
-- year to date; a month in which a flow measure was not delivered at all has no row, and a later month
-- whose year-to-date lacks a month is flagged 'incomplete_ytd'.
with facts as (
    -- Which rows count: macros/contributions_measures.sql, shared with the trace.
    {{ measure_facts() | indent(4) }}
),

stocks as (
    select
        me.period_end,
        f.structure_code,
        f.quantity_code,
        f.value
    from facts as f
    inner join {{ ref('int_month_ends') }} as me on f.month_start = me.month_start
    where f.is_month_value
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
        f.measure_code,
        f.quantity_code,
        f.month_start,
        sum(f.value) as value
    from facts as f
    inner join {{ ref('int_structure_ancestors') }} as anc on f.structure_code = anc.structure_code
    where f.stock_or_flow = 'flow'
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
