-- The weight of every scored node inside its parent, per structure level: the PG tree's weights come from
-- the perspective_weights seed (one row per level, KPI_SPEC 4), the rest of the pyramid from the node tree.
with levels as (
    select unnest(['national', 'regional', 'provincial', 'central']) as level
)

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
