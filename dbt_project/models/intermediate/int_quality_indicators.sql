-- Elementary quality indices (docs/decisions.md §9), one row per structure x product x indicator x month-end with its
-- value, the references it is indexed against and both indices: the components `piramide trace` lists under a
-- product of a quality leaf, and where the data-quality summary finds indices dropped because their
-- reference is 0 (index_vs_reference gives NULL there, and the product index averages the others).
--   vs previous year (feeds the scores): the same structure's value at the same month-end a year before;
--   vs budget (reported beside it, L4626-4640): the median of that value over the structures of the same
--   cost cluster a year before, the nation's over every clustered structure (cluster_median_reference).
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
    {{ with_cost_cluster('values_long') }}
),

budget as (
    {{ cluster_median_reference('with_cluster', ['product_code', 'indicator'], 'period_end', 'value') }}
),

indexed as (
    select
        c.structure_code,
        c.product_code,
        c.period_end,
        c.ytd_defined_points,
        c.weight,
        c.indicator,
        c.polarity,
        c.value,
        prev.value as reference_value,
        b.budget_value,
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
            c.cost_cluster is not distinct from b.cost_cluster
            and c.product_code = b.product_code
            and c.indicator = b.indicator
            and b.period_end = last_day(c.period_end - interval 1 year)
    where c.value is not null
)

select * from indexed
