-- The scored tree at every month-end and structure (docs/decisions.md §1, §3): a node's score is the weighted mean of
-- its children's scores over the children that have one, and its weight_coverage the weighted mean of the
-- children's coverage over all applicable children, so a missing extract shows all the way up to the VPI.
-- Leaves and composites come from fct_kpi_scores; the tree is at most five levels deep (VPI -> SP -> area
-- -> objective -> leaf), so the roll-up is unrolled level by level from the deepest.
{{ config(tags=['scenario_rescored']) }}
{%- set max_depth = 4 %}
with leaves as (
    select
        s.period_end,
        s.structure_code,
        s.kpi_code as node_code,
        s.score,
        s.weight_coverage
    from {{ ref('fct_kpi_scores') }} as s
    where s.node_kind in ('leaf', 'composite')
),

grid as (
    select
        g.period_end,
        g.structure_code,
        g.level,
        g.node_code,
        g.parent_code,
        g.kind,
        g.node_depth
    from {{ ref('int_kpi_grid') }} as g
    where g.kind not in ('part', 'reported')
),

weights as (
    select
        node_code,
        level,
        weight
    from {{ ref('int_kpi_weights') }}
),

{% for depth in range(max_depth, -1, -1) %}
level_{{ depth }} as (
    select
        g.period_end,
        g.structure_code,
        g.level,
        g.node_code,
        g.parent_code,
        g.kind,
        l.score,
        l.weight_coverage
    from grid as g
    inner join leaves as l
        on g.period_end = l.period_end and g.structure_code = l.structure_code and g.node_code = l.node_code
    where g.node_depth = {{ depth }} and g.kind in ('leaf', 'composite')
    {% if depth < max_depth %}
    union all
    select
        g.period_end,
        g.structure_code,
        g.level,
        g.node_code,
        g.parent_code,
        g.kind,
        sum(w.weight * c.score) filter (where c.score is not null)
        / nullif(sum(w.weight) filter (where c.score is not null), 0) as score,
        sum(w.weight * c.weight_coverage) / nullif(sum(w.weight), 0) as weight_coverage
    from grid as g
    inner join level_{{ depth + 1 }} as c
        on g.period_end = c.period_end and g.structure_code = c.structure_code and g.node_code = c.parent_code
    inner join weights as w on c.node_code = w.node_code and g.level = w.level
    where g.node_depth = {{ depth }} and g.kind not in ('leaf', 'composite')
    group by all
    {% endif %}
),
{% endfor %}

all_levels as (
    {% for depth in range(0, max_depth + 1) %}
    select
        *,
        {{ depth }} as node_level
    from level_{{ depth }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    a.period_end,
    a.structure_code,
    a.node_code,
    -- Outside the nation the management tree's root (PG) is the structure's scorecard: it has no parent.
    case when a.level <> 'national' and a.node_code = 'PG' then null else a.parent_code end as parent_code,
    a.node_level,
    a.kind as node_kind,
    w.weight,
    a.score::double as score,
    a.weight_coverage::double as weight_coverage,
    coalesce(a.weight_coverage = 1, false) as is_complete
from all_levels as a
left join weights as w on a.node_code = w.node_code and a.level = w.level
