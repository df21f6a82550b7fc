-- Elementary quality values per structure (every level, pooled counts) x product x month-end (docs/decisions.md §9):
-- share defined within the standard days (+), mean definition days (-), share of the backlog older than
-- the standard at the month end (-). Year-to-date for the first two, at the month end for the third.
with defined as (
    select
        e.structure_code,
        e.product_code,
        e.month_start,
        sum(e.defined)::bigint as defined_pieces,
        sum(e.within_standard)::bigint as within_standard,
        sum(e.defined_days)::bigint as definition_days,
        sum(e.defined * c.coefficient_hours) as defined_points
    from {{ ref('int_practice_events') }} as e
    inner join {{ ref('product_catalogue') }} as c on e.product_code = c.product_code
    where e.event = 'defined' and e.defined > 0
    group by all
),

young_open as (
    -- Open at the month end and younger than the standard (the cube's 'young_open' events).
    select
        structure_code,
        product_code,
        month_start,
        sum(pieces)::bigint as young_backlog
    from {{ ref('int_practice_events') }}
    where event = 'young_open'
    group by all
),

monthly as (
    select
        o.structure_code,
        o.product_code,
        o.month_start,
        coalesce(d.defined_pieces, 0) as defined_pieces,
        coalesce(d.within_standard, 0) as within_standard,
        coalesce(d.definition_days, 0) as definition_days,
        coalesce(d.defined_points, 0) as defined_points,
        o.backlog_pieces,
        o.backlog_pieces - coalesce(y.young_backlog, 0) as backlog_over_standard
    from {{ ref('int_production_owner_monthly') }} as o
    left join defined as d
        on o.structure_code = d.structure_code and o.product_code = d.product_code and o.month_start = d.month_start
    left join young_open as y
        on o.structure_code = y.structure_code and o.product_code = y.product_code and o.month_start = y.month_start
),

rolled as (
    select
        anc.ancestor_code as structure_code,
        m.product_code,
        m.month_start,
        sum(m.defined_pieces) as defined_pieces,
        sum(m.within_standard) as within_standard,
        sum(m.definition_days) as definition_days,
        sum(m.defined_points) as defined_points,
        sum(m.backlog_pieces) as backlog_pieces,
        sum(m.backlog_over_standard) as backlog_over_standard
    from monthly as m
    inner join {{ ref('int_structure_ancestors') }} as anc on m.structure_code = anc.structure_code
    group by all
),

ytd as (
    select
        structure_code,
        product_code,
        month_start,
        last_day(month_start) as period_end,
        {% for c in ['defined_pieces', 'within_standard', 'definition_days', 'defined_points'] %}
        sum({{ c }}) over (
            {{ ytd_frame('structure_code, product_code') | indent(12) }}
        ) as ytd_{{ c }},
        {% endfor %}
        backlog_pieces,
        backlog_over_standard
    from rolled
)

select
    structure_code,
    product_code,
    period_end,
    ytd_defined_points,
    ytd_defined_pieces,
    ytd_within_standard,
    ytd_definition_days,
    backlog_pieces,
    backlog_over_standard,
    100.0 * ytd_within_standard / nullif(ytd_defined_pieces, 0) as share_within_standard,
    ytd_definition_days / nullif(ytd_defined_pieces, 0) as avg_definition_days,
    100.0 * backlog_over_standard / nullif(backlog_pieces, 0) as backlog_over_standard_share
from ytd
