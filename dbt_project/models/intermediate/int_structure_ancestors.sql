-- Every structure paired with itself and each ancestor: a roll-up is a node's own rows plus its
-- descendants' rows (docs/decisions.md §6), so joining facts here and grouping by ancestor does it once.
with recursive tree as (
    select
        structure_code,
        structure_code as ancestor_code,
        0 as distance
    from {{ ref('structures') }}
    union all
    select
        tree.structure_code,
        s.parent_code as ancestor_code,
        tree.distance + 1 as distance
    from tree
    inner join {{ ref('structures') }} as s on tree.ancestor_code = s.structure_code
    where s.parent_code is not null
)

select
    tree.structure_code,
    tree.ancestor_code,
    a.level as ancestor_level,
    tree.distance
from tree
inner join {{ ref('structures') }} as a on tree.ancestor_code = a.structure_code
