-- The weight of every scored node inside its parent, per structure level: the PG tree's weights come from
-- the perspective_weights seed (one row per level, docs/decisions.md §8), the rest of the pyramid from the node tree.
-- In a what-if run (var scenario) a weight override fixes that node's weight at every level, and its
-- siblings are scaled proportionally so the parent's weights still sum to 1 (piramide whatif validates
-- that this is possible before running).
{{ config(tags=['scenario_rescored']) }}
with levels as (
    select unnest(['national', 'regional', 'provincial', 'central']) as level
),

plan_weights as (
    select
        n.node_code,
        n.parent_code,
        levels.level,
        coalesce(pw.weight, n.weight)::double as weight
    from {{ ref('kpi_nodes') }} as n
    cross join levels
    left join {{ ref('perspective_weights') }} as pw
        on n.node_code = pw.node_code and levels.level = pw.level
    where n.kind not in ('part', 'reported')
)

{% if scenario_name() | trim == '' %}
select
    node_code,
    parent_code,
    level,
    weight
from plan_weights
{% else %}
select
    node_code,
    parent_code,
    level,
    case
        when fixed_weight is not null then fixed_weight
        when fixed_total is null then weight
        else weight * (1 - fixed_total) / free_total
    end::double as weight
from (
    select
        w.node_code,
        w.parent_code,
        w.level,
        w.weight,
        o.value as fixed_weight,
        sum(o.value) over siblings as fixed_total,
        sum(case when o.value is null then w.weight end) over siblings as free_total
    from plan_weights as w
    left join {{ scenario_overrides('weight') }} as o on w.node_code = o.node_code
    window siblings as (partition by w.parent_code, w.level)
) as fixed
{% endif %}
