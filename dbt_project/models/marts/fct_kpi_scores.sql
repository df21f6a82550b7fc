-- One row per month-end x structure x KPI (leaves, composites, parts and reported KPIs) with the plan's
-- scoring rule applied once, through the scoring macros (docs/decisions.md §2). A leaf without an actual keeps its
-- row with a NULL score (dq_status 'missing_actual'); a leaf that does not apply at a level has no row.
-- A reported KPI (kind 'reported' in kpi_nodes, e.g. produzione lorda, which the plan uses for planning,
-- L4495) shows its actual, target and deviation but carries no score and no weight.
{{ config(tags=['scenario_rescored']) }}
{% set value_columns = ['period_end', 'structure_code', 'kpi_code', 'node_kind', 'quantity_code', 'polarity',
                         'cap_high', 'actual_value', 'numerator', 'denominator', 'target_value',
                         'value_vs_budget', 'dq_note'] %}
with rows_ as (
    select
        {{ value_columns | join(',\n        ') }}
    from {{ ref('int_kpi_values') }}
    union all
    select
        {{ value_columns | join(',\n        ') }}
    from {{ ref('int_kpi_composites') }}
),

scored as (
    select
        *,
        {{ deviation('actual_value', 'target_value', 'polarity') }} as deviation,
        {{ deviation('value_vs_budget', 'target_value', 'polarity') }} as deviation_vs_budget
    from rows_
),

capped as (
    select
        *,
        case when node_kind <> 'reported' then {{ deviation_capped('deviation', 'cap_high') }} end
            as deviation_capped,
        case when node_kind <> 'reported' then {{ deviation_capped('deviation_vs_budget', 'cap_high') }} end
            as deviation_vs_budget_capped
    from scored
),

quarter_ends as (
    -- The plan's "progressive reduction" of backlog indices in Q1-Q3 (L4577), reported as a flag.
    select
        period_end,
        structure_code,
        kpi_code,
        actual_value
    from rows_
    where month(period_end) in (3, 6, 9, 12) and quantity_code like 'IG\_%' escape '\'
)

select
    c.period_end,
    c.structure_code,
    c.kpi_code,
    c.node_kind,
    c.actual_value::double as actual_value,
    c.numerator::double as numerator,
    c.denominator::double as denominator,
    c.target_value::double as target_value,
    c.polarity::integer as polarity,
    c.cap_high::double as cap_high,
    c.deviation::double as deviation,
    c.deviation_capped::double as deviation_capped,
    {{ score('c.deviation_capped') }}::double as score,
    {{ score('c.deviation_vs_budget_capped') }}::double as score_vs_budget,
    case when c.quantity_code like 'IG\_%' escape '\' then c.actual_value < q.actual_value end
        as improved_since_previous_quarter_end,
    (case when c.node_kind = 'reported' then null when c.deviation_capped is null then 0.0 else 1.0 end)::double
        as weight_coverage,
    case when c.node_kind <> 'reported' then c.deviation_capped is not null end as is_complete,
    case
        when c.actual_value is null then coalesce(c.dq_note, 'missing_actual')
        when c.target_value is null then 'no_target'
        when c.dq_note is not null then c.dq_note
        else 'ok'
    end as dq_status
from capped as c
left join quarter_ends as q
    on
        c.structure_code = q.structure_code
        and c.kpi_code = q.kpi_code
        and q.period_end = (date_trunc('quarter', c.period_end) - interval 1 day)::date
