-- Production and efficiency quantities at every month-end for every structure level (docs/decisions.md §6, §8).
-- Additive quantities are rolled up first and ratios taken last: a national ratio is the ratio of sums.
with owner_groups as (
    select
        anc.ancestor_code as structure_code,
        o.month_start,
        grp.backlog_scope,
        sum(o.received_pieces) as received_pieces,
        sum(o.defined_pieces) as defined_pieces,
        sum(o.received_points) as received_points,
        sum(o.backlog_points) as backlog_points
    from {{ ref('int_production_owner_monthly') }} as o
    inner join {{ ref('int_structure_ancestors') }} as anc on o.structure_code = anc.structure_code
    cross join unnest(
        list_filter([o.backlog_group, case when o.in_total_backlog then 'TOTAL' end], x -> coalesce(x, 'NONE') <> 'NONE')
    ) as grp (backlog_scope)
    group by all
),

owner_windows as (
    select
        structure_code,
        month_start,
        backlog_scope,
        backlog_points,
        -- The windows: macros/month_windows.sql, shared with the trace.
        sum(received_points) over (
            {{ rolling_frame('structure_code, backlog_scope', 12) | indent(12) }}
        ) as inflow_points_12m,
        sum(received_pieces) over (
            {{ ytd_frame('structure_code, backlog_scope') | indent(12) }}
        ) as ytd_received_pieces,
        sum(defined_pieces) over (
            {{ ytd_frame('structure_code, backlog_scope') | indent(12) }}
        ) as ytd_defined_pieces
    from owner_groups
),

producer as (
    select
        anc.ancestor_code as structure_code,
        p.month_start,
        sum(p.points_lorda) as points_lorda,
        sum(p.points_productivity_scope) as points_scope,
        sum(p.points_sussidiarieta) as points_sussidiarieta
    from {{ ref('int_production_producer_monthly') }} as p
    inner join {{ ref('int_structure_ancestors') }} as anc on p.structure_code = anc.structure_code
    group by all
),

staff as (
    select
        anc.ancestor_code as structure_code,
        s.month_start,
        sum(s.fte_production_scope) as fte_production_scope,
        sum(s.fte_production_structures_prod) as fte_prod,
        sum(s.fte_production_structures_all) as fte_all
    from {{ ref('int_staff_monthly') }} as s
    inner join {{ ref('int_structure_ancestors') }} as anc on s.structure_code = anc.structure_code
    group by all
),

efficiency_monthly as (
    -- A dense structure x month spine, so a structure without events in a month still has its
    -- year-to-date figures at that month-end (sparse central producers otherwise vanish from a month).
    select
        st.structure_code,
        me.month_start,
        coalesce(p.points_lorda, 0) as points_lorda,
        coalesce(p.points_scope, 0) as points_scope,
        coalesce(p.points_sussidiarieta, 0) as points_sussidiarieta,
        coalesce(s.fte_production_scope, 0) as fte_production_scope,
        coalesce(s.fte_prod, 0) as fte_prod,
        coalesce(s.fte_all, 0) as fte_all
    from (
        select structure_code from producer
        union
        select structure_code from staff
    ) as st
    cross join {{ ref('int_month_ends') }} as me
    left join producer as p on st.structure_code = p.structure_code and me.month_start = p.month_start
    left join staff as s on st.structure_code = s.structure_code and me.month_start = s.month_start
),

efficiency_ytd as (
    select
        structure_code,
        month_start,
        {% for col in ['points_lorda', 'points_scope', 'points_sussidiarieta', 'fte_production_scope', 'fte_prod', 'fte_all'] %}
        sum({{ col }}) over (
            {{ ytd_frame('structure_code') | indent(12) }}
        ) as ytd_{{ col }}{{ "," if not loop.last }}
        {% endfor %}
    from efficiency_monthly
),

long as (
    select
        structure_code,
        month_start,
        'IG_' || backlog_scope as quantity_code,
        backlog_points as numerator,
        inflow_points_12m as denominator,
        backlog_points / nullif(inflow_points_12m, 0) * 360 as actual_value
    from owner_windows
    union all
    select
        structure_code,
        month_start,
        'OUTFLOW' as quantity_code,
        ytd_defined_pieces as numerator,
        ytd_received_pieces as denominator,
        ytd_defined_pieces / nullif(ytd_received_pieces, 0) as actual_value
    from owner_windows
    where backlog_scope = 'TOTAL'
    union all
    select
        structure_code,
        month_start,
        'PRODUZIONE_LORDA' as quantity_code,
        ytd_points_lorda as numerator,
        null as denominator,
        ytd_points_lorda as actual_value
    from efficiency_ytd
    union all
    select
        structure_code,
        month_start,
        'SUSSIDIARIETA' as quantity_code,
        ytd_points_sussidiarieta as numerator,
        null as denominator,
        ytd_points_sussidiarieta as actual_value
    from efficiency_ytd
    union all
    select
        structure_code,
        month_start,
        'PRODUCTIVITY' as quantity_code,
        ytd_points_scope as numerator,
        ytd_fte_production_scope as denominator,
        ytd_points_scope / nullif(ytd_fte_production_scope, 0) as actual_value
    from efficiency_ytd
    union all
    select
        structure_code,
        month_start,
        'STAFF_PROD_SHARE' as quantity_code,
        ytd_fte_prod as numerator,
        ytd_fte_all as denominator,
        100 * ytd_fte_prod / nullif(ytd_fte_all, 0) as actual_value
    from efficiency_ytd
)

select
    me.period_end,
    long.structure_code,
    long.quantity_code,
    long.numerator,
    long.denominator,
    long.actual_value,
    null::double as value_vs_budget,
    null::varchar as dq_note
from long
inner join {{ ref('int_month_ends') }} as me on long.month_start = me.month_start
