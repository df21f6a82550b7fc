{#
    Which milestone reports count, once (docs/decisions.md §4, §11): at a month-end, each register record's latest report
    with as_of <= period_end in the same year (a report of last year's output says nothing about this year's). A
    report therefore counts from its month until the month before the record's next report of the year, or
    December. int_kpi_actuals_milestones and int_contrib_milestones both read this.
#}
{% macro milestone_facts() %}
    select
        r.*,
        date_trunc('month', r.as_of)::date as first_month,
        least(
            (date_trunc('month', r.next_as_of) - interval 1 month)::date,
            (date_trunc('year', r.as_of) + interval 11 month)::date
        ) as last_month
    from (
        select
            pl.leaf_code,
            m.*,
            lead(m.as_of) over (
                partition by pl.leaf_code, m.project_id, year(m.as_of) order by m.as_of, m._row
            ) as next_as_of
        from {{ ref('stg_milestones') }} as m
        -- A project running several years has one output row a year (seed project_leaf): a report counts for its year's.
        inner join {{ ref('project_leaf') }} as pl
            on
                m.project_id = pl.project_id
                and year(m.as_of) between year(pl.planned_start) and year(pl.due_date)
    ) as r
    where r.next_as_of is null or date_trunc('month', r.next_as_of) > date_trunc('month', r.as_of)
{% endmacro %}
