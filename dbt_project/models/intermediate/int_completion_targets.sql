-- Planned completion of project and strategic-activity leaves at each month-end (docs/decisions.md §5): linear
-- by month index from max(project start, 1 January) to the output's due date (31 December when none).
-- Several register records for one leaf are averaged.
with records as (
    select
        leaf_code as node_code,
        project_id,
        planned_start::date as planned_start,
        coalesce(due_date::date, make_date(year(planned_start::date), 12, 31)) as due_date
    from {{ ref('project_leaf') }}
),

per_record as (
    select
        r.node_code,
        me.period_end,
        greatest(r.planned_start, make_date(me.year, 1, 1)) as start_eff,
        r.due_date,
        case
            when me.period_end < greatest(r.planned_start, make_date(me.year, 1, 1)) then 0.0
            when year(r.due_date) < me.year then 0.0
            else least(
                1.0,
                (me.month_of_year - month(greatest(r.planned_start, make_date(me.year, 1, 1))) + 1.0)
                / (
                    (year(r.due_date) - me.year) * 12 + month(r.due_date)
                    - month(greatest(r.planned_start, make_date(me.year, 1, 1))) + 1.0
                )
            )
        end as planned_share
    from records as r
    -- One output row a year for a project running several years: a month-end sees the outputs open in its year.
    inner join {{ ref('int_month_ends') }} as me on me.year between year(r.planned_start) and year(r.due_date)
)

select
    node_code,
    period_end,
    avg(planned_share) as planned_share
from per_record
group by all
