-- Which node exists at which month-end and structure: applicable at the structure's level, and for leaves
-- with per-structure targets only, where the plan sets one (absent, not NULL, elsewhere: docs/decisions.md §3).
-- Project and strategic-activity leaves exist from the month their planned completion is above zero.
select
    me.period_end,
    me.year,
    me.month_of_year,
    s.structure_code,
    s.level,
    t.node_code,
    t.parent_code,
    t.kind,
    t.node_depth,
    t.quantity_code,
    t.period_basis,
    t.polarity,
    t.cap_high,
    t.in_pg_tree
from {{ ref('int_month_ends') }} as me
cross join {{ ref('structures') }} as s
inner join {{ ref('int_kpi_applicability') }} as ap on s.level = ap.level and ap.applies
inner join {{ ref('int_kpi_tree') }} as t on ap.node_code = t.node_code
where
    (
        not ap.absent_without_target
        or exists (
            select 1 from {{ ref('kpi_targets') }} as kt
            where kt.node_code = t.node_code and kt.structure_code = s.structure_code and kt.year = me.year
        )
    )
    and (
        t.period_basis is distinct from 'completion'
        or exists (
            select 1 from {{ ref('int_completion_targets') }} as ct
            where ct.node_code = t.node_code and ct.period_end = me.period_end and ct.planned_share > 0
        )
    )
