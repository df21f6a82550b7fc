-- C.1: smart workers and teleworkers over headcount at the month end (a stock), as a percent value.
select
    me.period_end,
    anc.ancestor_code as structure_code,
    'SMART_WORKING_SHARE' as quantity_code,
    sum(s.smart_workers) as numerator,
    sum(s.headcount) as denominator,
    100.0 * sum(s.smart_workers) / nullif(sum(s.headcount), 0) as actual_value,
    null::double as value_vs_budget,
    null::varchar as dq_note
from ({{ staff_facts() }}) as s
inner join {{ ref('int_month_ends') }} as me on s.month_start = me.month_start
inner join {{ ref('int_structure_ancestors') }} as anc on s.structure_code = anc.structure_code
group by all
