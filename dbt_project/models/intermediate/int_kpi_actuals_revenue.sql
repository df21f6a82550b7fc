-- Revenue KPIs at every month-end and structure level: the two IEEP sections as signed year-to-date sums of
-- their leaf items (legal interest subtracted, signs from seeds/ieep_items.csv) and the inspection
-- collections (docs/decisions.md §8 Finanza, §11). A month whose revenue file is missing has no rows.
with finance as (
    select
        me.period_end,
        f.*,
        case when f.revenue_missing_months > 0 then 'incomplete_ytd' end as revenue_note
    from {{ ref('int_finance_monthly') }} as f
    inner join {{ ref('int_month_ends') }} as me on f.month_start = me.month_start
    where f.revenue_delivered and f.ytd_revenue_rows > 0
)

select
    period_end,
    structure_code,
    'IEEP.ENTRATE' as quantity_code,
    ytd_ieep_entrate::double as numerator,
    null::double as denominator,
    ytd_ieep_entrate::double as actual_value,
    null::double as value_vs_budget,
    revenue_note as dq_note
from finance
union all
select
    period_end,
    structure_code,
    'IEEP.PRESTAZIONI' as quantity_code,
    ytd_ieep_prestazioni::double as numerator,
    null as denominator,
    ytd_ieep_prestazioni::double as actual_value,
    null as value_vs_budget,
    revenue_note as dq_note
from finance
union all
select
    period_end,
    structure_code,
    'IMP_INSPECTION' as quantity_code,
    ytd_inspection_collections::double as numerator,
    null as denominator,
    ytd_inspection_collections::double as actual_value,
    null as value_vs_budget,
    revenue_note as dq_note
from finance
