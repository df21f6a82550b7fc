-- The node tree with each node's depth, its path from the root, its place in the plan's reading order
-- (depth first, heavier siblings first, reported KPIs and parts last) and whether it belongs to the management
-- (PG) tree, which is computed for every structure; the rest of the pyramid (VPI, SP, PI) is national only.
with recursive sibling_rank as (
    select
        node_code,
        parent_code,
        row_number() over (
            partition by parent_code
            order by
                kind in ('reported', 'part'),
                coalesce(weight, 0) desc,
                -- natural order of codes: A.2 before A.10
                list_transform(
                    regexp_extract_all(node_code, '(\d+|\D+)'),
                    x -> case when regexp_full_match(x, '\d+') then lpad(x, 8, '0') else x end
                )
        ) as sibling_rank
    from {{ ref('kpi_nodes') }}
),

down as (
    select
        node_code,
        [node_code] as node_path,
        lpad(sibling_rank::varchar, 4, '0') as order_key
    from sibling_rank
    where parent_code is null
    union all
    select
        s.node_code,
        list_append(d.node_path, s.node_code) as node_path,
        d.order_key || '.' || lpad(s.sibling_rank::varchar, 4, '0') as order_key
    from down as d
    inner join sibling_rank as s on d.node_code = s.parent_code
)

select
    n.*,
    len(d.node_path) - 1 as node_depth,
    d.node_path,
    row_number() over (
        order by d.order_key
    ) as tree_order,
    list_contains(d.node_path, 'PG') as in_pg_tree
from {{ ref('kpi_nodes') }} as n
inner join down as d on n.node_code = d.node_code
