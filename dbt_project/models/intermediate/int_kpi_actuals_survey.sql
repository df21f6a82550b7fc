-- IMP_REPUTATION (docs/decisions.md §11): at each month-end M, the mean overall score (1-5) of the latest survey wave
-- delivered by M (which responses count: macros/contributions_survey.sql, shared with the trace). National
-- only: the survey samples the nation. While that wave is an earlier year's, the value is flagged 'stale', so
-- the months before a late wave arrives are visibly measured on the previous year's opinion.
select
    me.period_end,
    n.structure_code,
    'IMP_REPUTATION' as quantity_code,
    sum(s.overall_score) as numerator,
    count(s.overall_score) as denominator,
    avg(s.overall_score) as actual_value,
    null::double as value_vs_budget,
    case when max(s.wave) < year(me.period_end) then 'stale' end as dq_note
from {{ ref('int_month_ends') }} as me
inner join ({{ survey_facts() }}) as s on me.month_start between s.first_month and s.last_month
cross join (
    select structure_code
    from {{ ref('structures') }}
    where level = 'national'
) as n
group by me.period_end, n.structure_code
