-- Actual and month-end target of every non-composite row (leaves, parts, reported KPIs) at every
-- month-end and structure where the node exists. Project leaves read their own completion (the
-- milestones extract reports them by leaf code); every other node reads its quantity.
{{ config(tags=['scenario_rescored']) }}
select
    g.period_end,
    g.structure_code,
    g.level,
    g.node_code as kpi_code,
    g.kind as node_kind,
    g.parent_code,
    g.quantity_code,
    g.period_basis,
    g.polarity,
    g.cap_high,
    a.actual_value,
    a.numerator,
    a.denominator,
    a.value_vs_budget,
    a.dq_note,
    case
        when g.period_basis = 'completion' then ct.planned_share
        when tg.target_value = 0 and g.kind = 'leaf'
            then error('zero target on scored KPI ' || g.node_code || ' at ' || g.structure_code)
        else tg.target_value
    end as target_value
from {{ ref('int_kpi_grid') }} as g
left join {{ ref('int_kpi_actuals') }} as a
    on
        g.period_end = a.period_end
        and g.structure_code = a.structure_code
        and a.quantity_code = case when g.quantity_code = 'MILESTONE' then g.node_code else g.quantity_code end
left join {{ ref('int_kpi_targets') }} as tg
    on g.period_end = tg.period_end and g.structure_code = tg.structure_code and g.node_code = tg.node_code
left join {{ ref('int_completion_targets') }} as ct
    on g.period_end = ct.period_end and g.node_code = ct.node_code
where g.kind in ('leaf', 'part', 'reported')
