-- IMP_REPUTATION (KPI_SPEC 6.2): at each month-end M, the mean overall score (1-5) of the latest survey wave
-- delivered by M (a response is delivered from the month of its first current file). National only: the
-- survey samples the nation. While that wave is an earlier year's, the value is flagged 'stale', so the
-- months before a late wave arrives are visibly measured on the previous year's opinion.
with latest_wave as (
    select
        me.month_start,
        me.period_end,
        max(s.wave) as wave
    from {{ ref('int_month_ends') }} as me
    inner join {{ ref('stg_survey') }} as s on me.month_start >= s.first_delivery_month
    group by all
)

select
    lw.period_end,
    n.structure_code,
    'IMP_REPUTATION' as quantity_code,
    sum(s.overall_score) as numerator,
    count(s.overall_score) as denominator,
    avg(s.overall_score) as actual_value,
    null::double as value_vs_budget,
    case when lw.wave < year(lw.period_end) then 'stale' end as dq_note
from latest_wave as lw
inner join {{ ref('stg_survey') }} as s on lw.wave = s.wave and lw.month_start >= s.first_delivery_month
cross join (
    select structure_code
    from {{ ref('structures') }}
    where level = 'national'
) as n
group by lw.period_end, n.structure_code, lw.wave
