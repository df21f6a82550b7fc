-- Synthetic quality indices (KPI_SPEC 5.1). Each elementary value is indexed against a reference:
--   vs previous year (feeds the scores): the same structure's value at the same month-end a year before;
--   vs budget (reported beside it, L4626-4640): the median of that value over the structures of the same
--   level and cost cluster a year before (the nation has no cluster: NULL).
-- Product index = weighted mean of its elementary indices (seed quality_weights); group index = mean of
-- its products' indices weighted by their homogenised points defined in the period.
with weights as (
    select
        indicator,
        weight,
        polarity
    from {{ ref('quality_weights') }}
),

values_long as (
    select
        v.structure_code,
        v.product_code,
        v.period_end,
        v.ytd_defined_points,
        w.indicator,
        w.weight,
        w.polarity,
        case w.indicator
            when 'share_within_standard' then v.share_within_standard
            when 'avg_definition_days' then v.avg_definition_days
            when 'backlog_over_standard' then v.backlog_over_standard_share
        end as value
    from {{ ref('int_quality_values') }} as v
    cross join weights as w
),

with_cluster as (
    select
        l.*,
        s.level,
        coalesce(s.cost_cluster, r.cost_cluster) as cost_cluster
    from values_long as l
    inner join {{ ref('structures') }} as s on l.structure_code = s.structure_code
    left join {{ ref('structures') }} as r on s.regional_entity_code = r.structure_code
),

budget as (
    select
        level,
        cost_cluster,
        product_code,
        indicator,
        period_end,
        median(value) as budget_value
    from with_cluster
    where cost_cluster is not null and value is not null
    group by all
),

indexed as (
    select
        c.structure_code,
        c.product_code,
        c.period_end,
        c.ytd_defined_points,
        c.weight,
        {{ index_vs_reference('c.value', 'prev.value', 'c.polarity') }} as idx_prev,
        {{ index_vs_reference('c.value', 'b.budget_value', 'c.polarity') }} as idx_budget
    from with_cluster as c
    inner join {{ ref('int_month_ends') }} as me on c.period_end = me.period_end
    left join with_cluster as prev
        on
            c.structure_code = prev.structure_code
            and c.product_code = prev.product_code
            and c.indicator = prev.indicator
            and prev.period_end = last_day(c.period_end - interval 1 year)
    left join budget as b
        on
            c.level = b.level
            and c.cost_cluster = b.cost_cluster
            and c.product_code = b.product_code
            and c.indicator = b.indicator
            and b.period_end = last_day(c.period_end - interval 1 year)
    where c.value is not null
),

product_index as (
    select
        structure_code,
        product_code,
        period_end,
        max(ytd_defined_points) as points,
        sum(weight * idx_prev) filter (where idx_prev is not null)
        / nullif(sum(weight) filter (where idx_prev is not null), 0) as idx_prev,
        sum(weight * idx_budget) filter (where idx_budget is not null)
        / nullif(sum(weight) filter (where idx_budget is not null), 0) as idx_budget
    from indexed
    group by all
),

grouped as (
    select
        p.structure_code,
        p.period_end,
        g.quantity_code,
        sum(p.points * p.idx_prev) filter (where p.idx_prev is not null) as weighted_prev,
        sum(p.points) filter (where p.idx_prev is not null) as points_prev,
        sum(p.points * p.idx_budget) filter (where p.idx_budget is not null)
        / nullif(sum(p.points) filter (where p.idx_budget is not null), 0) as idx_budget
    from product_index as p
    inner join {{ ref('product_catalogue') }} as c on p.product_code = c.product_code
    cross join unnest(
        list_filter(
            [case when c.in_total_backlog then 'QUALITY_PROD' end,
             case when c.quality_index is not null then 'QUALITY_' || c.quality_index end],
            x -> x is not null
        )
    ) as g (quantity_code)
    group by all
)

select
    period_end,
    structure_code,
    quantity_code,
    weighted_prev as numerator,
    points_prev as denominator,
    weighted_prev / nullif(points_prev, 0) as actual_value,
    idx_budget as value_vs_budget,
    null::varchar as dq_note
from grouped
