-- The node tree with each node's depth and whether it belongs to the management (PG) tree, which is
-- computed for every structure; the rest of the pyramid (VPI, SP, PI) is national only (KPI_SPEC 1).
with recursive up as (
    select
        node_code,
        node_code as ancestor_code,
        0 as distance
    from {{ ref('kpi_nodes') }}
    union all
    select
        up.node_code,
        n.parent_code as ancestor_code,
        up.distance + 1 as distance
    from up
    inner join {{ ref('kpi_nodes') }} as n on up.ancestor_code = n.node_code
    where n.parent_code is not null
),

summary as (
    select
        node_code,
        max(distance) as node_depth,
        bool_or(ancestor_code = 'PG') as in_pg_tree
    from up
    group by node_code
)

select
    n.*,
    s.node_depth,
    s.in_pg_tree
from {{ ref('kpi_nodes') }} as n
inner join summary as s on n.node_code = s.node_code
