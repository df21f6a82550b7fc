-- Project leaves (docs/decisions.md §4, §11): completion c in [0, 1] of the year's output at each month-end, national
-- only. The quantity_code is the leaf code itself (A.P1, A.PT1 ...): every project leaf shares the node
-- quantity MILESTONE, so the scoring layer joins them by node code.
-- A register record's completion is its latest report with as_of <= period_end in the same year (a report
-- of last year's output says nothing about this year's); several records of one leaf (seed project_leaf)
-- are averaged over those that have reported (numerator = sum of completions, denominator = records), and
-- dq_note 'partial_records' says when some records of the leaf have not reported yet this year.
with latest as (
    -- Which report of each record counts at a month-end: macros/contributions_milestones.sql (shared with the
    -- trace).
    select
        me.period_end,
        r.leaf_code,
        r.project_id,
        r.completion
    from {{ ref('int_month_ends') }} as me
    inner join ({{ milestone_facts() }}) as r on me.month_start between r.first_month and r.last_month
),

records as (
    -- The records with an output open in the month-end's year (one project_leaf row per project and output year).
    select
        pl.leaf_code,
        me.period_end,
        count(distinct pl.project_id) as register_records
    from {{ ref('project_leaf') }} as pl
    inner join {{ ref('int_month_ends') }} as me on me.year between year(pl.planned_start) and year(pl.due_date)
    group by all
)

select
    l.period_end,
    nat.structure_code,
    l.leaf_code as quantity_code,
    sum(l.completion) as numerator,
    count(*)::double as denominator,
    avg(l.completion) as actual_value,
    null::double as value_vs_budget,
    case when count(*) < any_value(rec.register_records) then 'partial_records' end as dq_note
from latest as l
inner join records as rec on l.leaf_code = rec.leaf_code and l.period_end = rec.period_end
cross join (
    select structure_code
    from {{ ref('structures') }}
    where level = 'national'
) as nat
group by l.period_end, nat.structure_code, l.leaf_code
