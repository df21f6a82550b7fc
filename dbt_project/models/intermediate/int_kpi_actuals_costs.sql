-- Cost KPIs at every month-end and structure level (docs/decisions.md §8 Finanza, §11), ratios of year-to-date sums
-- taken after the roll-up (int_finance_monthly). A month whose costs file is missing has no cost KPI rows
-- (the leaves are missing, not zero); dq_note 'incomplete_ytd' flags a year-to-date with an earlier month
-- of the year undelivered. is_closing entries: see int_finance_monthly (they count in December).
with finance as (
    select
        me.period_end,
        f.*,
        case when f.costs_missing_months > 0 then 'incomplete_ytd' end as costs_note,
        case when f.costs_missing_months + f.revenue_missing_months > 0 then 'incomplete_ytd' end as both_note
    from {{ ref('int_finance_monthly') }} as f
    inner join {{ ref('int_month_ends') }} as me on f.month_start = me.month_start
    where f.costs_delivered and f.ytd_cost_rows > 0
)

select
    period_end,
    structure_code,
    'PROFITABILITY' as quantity_code,
    (ytd_ieep_entrate + ytd_ieep_prestazioni)::double as numerator,
    ytd_total_costs::double as denominator,
    (ytd_ieep_entrate + ytd_ieep_prestazioni)::double / nullif(ytd_total_costs::double, 0) as actual_value,
    null::double as value_vs_budget,
    both_note as dq_note
from finance
where revenue_delivered and ytd_revenue_rows > 0
union all
select
    period_end,
    structure_code,
    'DIRECT_COST_SHARE' as quantity_code,
    ytd_direct_costs::double as numerator,
    ytd_total_costs::double as denominator,
    -- Percent as a value (93.35, not 0.9335), like its target (docs/decisions.md §2).
    100 * ytd_direct_costs::double / nullif(ytd_total_costs::double, 0) as actual_value,
    null as value_vs_budget,
    costs_note as dq_note
from finance
union all
select
    period_end,
    structure_code,
    'DIRECT_PROD_COST_SHARE' as quantity_code,
    ytd_direct_prod_costs::double as numerator,
    ytd_total_costs::double as denominator,
    100 * ytd_direct_prod_costs::double / nullif(ytd_total_costs::double, 0) as actual_value,
    null as value_vs_budget,
    costs_note as dq_note
from finance
union all
select
    period_end,
    structure_code,
    'COST_PER_POINT' as quantity_code,
    ytd_total_costs::double as numerator,
    ytd_points_scope::double as denominator,
    -- Points of the productivity scope credited to the producer (docs/decisions.md §6, §12.5).
    ytd_total_costs::double / nullif(ytd_points_scope::double, 0) as actual_value,
    null as value_vs_budget,
    costs_note as dq_note
from finance
union all
select
    period_end,
    structure_code,
    'IMP_LITIGATION' as quantity_code,
    ytd_litigation_costs::double as numerator,
    null as denominator,
    ytd_litigation_costs::double as actual_value,
    null as value_vs_budget,
    costs_note as dq_note
from finance
