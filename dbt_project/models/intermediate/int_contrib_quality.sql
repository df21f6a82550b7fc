-- The components of the quality leaves (docs/decisions.md §9), one row per structure x month-end x quality quantity x
-- product: the product index (the weighted mean of its elementary indices, seed quality_weights) and its weight,
-- the homogenised points the product defined in the period. int_kpi_actuals_quality takes the points-weighted
-- mean of exactly these rows, and `piramide trace` lists them.
with product_index as (
    select
        structure_code,
        product_code,
        period_end,
        max(ytd_defined_points) as points,
        sum(weight * idx_prev) filter (where idx_prev is not null)
        / nullif(sum(weight) filter (where idx_prev is not null), 0) as idx_prev,
        sum(weight * idx_budget) filter (where idx_budget is not null)
        / nullif(sum(weight) filter (where idx_budget is not null), 0) as idx_budget,
        count(*) filter (where idx_prev is null and abs(reference_value) < 1e-9) as indicators_zero_reference
    from {{ ref('int_quality_indicators') }}
    group by all
)

select
    p.period_end,
    p.structure_code,
    g.quantity_code,
    p.product_code,
    p.points,
    p.idx_prev,
    p.idx_budget,
    p.indicators_zero_reference
from product_index as p
inner join {{ ref('product_catalogue') }} as c on p.product_code = c.product_code
cross join unnest(
    list_filter(
        [case when c.in_total_backlog then 'QUALITY_PROD' end,
         case when c.quality_index is not null then 'QUALITY_' || c.quality_index end],
        x -> x is not null
    )
) as g (quantity_code)
