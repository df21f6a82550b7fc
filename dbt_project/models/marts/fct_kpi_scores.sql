-- One row per month-end x structure x KPI (leaves, composites, parts and reported KPIs) with the plan's
-- scoring rule applied once, through the scoring macros (KPI_SPEC 2). A leaf without an actual keeps its
-- row with a NULL score (listed as missing), a leaf that does not apply at a level has no row.
with grid as (
    select
        me.period_end,
        me.month_of_year,
        s.structure_code,
        t.node_code,
        t.kind,
        t.quantity_code,
        t.polarity,
        t.cap_high
    from {{ ref('int_month_ends') }} as me
    cross join {{ ref('structures') }} as s
    inner join {{ ref('int_kpi_applicability') }} as ap on s.level = ap.level and ap.applies
    inner join {{ ref('int_kpi_tree') }} as t on ap.node_code = t.node_code
    where
        t.kind in ('leaf', 'composite', 'part', 'reported')
        -- A leaf with per-structure targets only is absent (not NULL) where the plan sets no target.
        and (
            not ap.absent_without_target
            or exists (
                select 1 from {{ ref('kpi_targets') }} as kt
                where kt.node_code = t.node_code and kt.structure_code = s.structure_code and kt.year = me.year
            )
        )
),

joined as (
    select
        g.*,
        a.actual_value,
        a.numerator,
        a.denominator,
        case
            when tg.target_value = 0 and g.kind in ('leaf', 'composite')
                then error('zero target on scored KPI ' || g.node_code || ' at ' || g.structure_code)
            else tg.target_value
        end as target_value
    from grid as g
    left join {{ ref('int_kpi_actuals') }} as a
        on g.period_end = a.period_end and g.structure_code = a.structure_code and g.quantity_code = a.quantity_code
    left join {{ ref('int_kpi_targets') }} as tg
        on g.period_end = tg.period_end and g.structure_code = tg.structure_code and g.node_code = tg.node_code
),

scored as (
    select
        *,
        {{ deviation('actual_value', 'target_value', 'polarity') }} as deviation
    from joined
),

with_score as (
    select
        *,
        {{ deviation_capped('deviation', 'cap_high') }} as deviation_capped
    from scored
),

backlog_quarter as (
    -- The plan's "progressive reduction" of backlog indices in Q1-Q3 (L4577), reported as a flag.
    select
        w.period_end,
        w.structure_code,
        w.node_code,
        w.actual_value < q.actual_value as improved
    from with_score as w
    inner join with_score as q
        on
            w.structure_code = q.structure_code
            and w.node_code = q.node_code
            and q.period_end = (date_trunc('quarter', w.period_end) - interval 1 day)::date
    where w.quantity_code like 'IG\_%' escape '\'
)

select
    w.period_end,
    w.structure_code,
    w.node_code as kpi_code,
    w.kind as node_kind,
    w.actual_value::double as actual_value,
    w.numerator::double as numerator,
    w.denominator::double as denominator,
    w.target_value::double as target_value,
    w.polarity::integer as polarity,
    w.deviation::double as deviation,
    w.deviation_capped::double as deviation_capped,
    {{ score('w.deviation_capped') }}::double as score,
    null::double as score_vs_budget,
    bq.improved as improved_since_previous_quarter_end,
    case when w.deviation_capped is null then 0.0 else 1.0 end as weight_coverage,
    w.deviation_capped is not null as is_complete,
    case
        when w.actual_value is null then 'missing_actual'
        when w.target_value is null then 'no_target'
        else 'ok'
    end as dq_status
from with_score as w
left join backlog_quarter as bq
    on w.period_end = bq.period_end and w.structure_code = bq.structure_code and w.node_code = bq.node_code
