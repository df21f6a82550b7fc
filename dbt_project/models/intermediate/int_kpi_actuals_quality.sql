-- Synthetic quality indices (docs/decisions.md §9): each group index is the mean of its products' indices
-- (int_contrib_quality, itself from the elementary indices of int_quality_indicators) weighted by their
-- homogenised points defined in the period.
with grouped as (
    select
        structure_code,
        period_end,
        quantity_code,
        sum(points * idx_prev) filter (where idx_prev is not null) as weighted_prev,
        sum(points) filter (where idx_prev is not null) as points_prev,
        sum(points * idx_budget) filter (where idx_budget is not null)
        / nullif(sum(points) filter (where idx_budget is not null), 0) as idx_budget
    from {{ ref('int_contrib_quality') }}
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
