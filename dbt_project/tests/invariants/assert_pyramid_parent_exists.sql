-- Every pyramid row with a parent has that parent at the same structure and month-end: (structure_code,
-- period_end, parent_code) refers to an existing (structure_code, period_end, node_code) row.
select
    c.period_end,
    c.structure_code,
    c.node_code,
    c.parent_code
from {{ ref('fct_value_pyramid') }} as c
where
    c.parent_code is not null
    and not exists (
        select 1 from {{ ref('fct_value_pyramid') }} as p
        where p.structure_code = c.structure_code and p.period_end = c.period_end and p.node_code = c.parent_code
    )
