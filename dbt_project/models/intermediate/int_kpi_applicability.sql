-- Which node applies at which structure level: the applicability seed, which has one row per node and level
-- (a test says so), so no rule about the tree lives here. Only nodes of the tree are kept.
select
    a.node_code,
    a.level,
    a.applies,
    a.absent_without_target
from {{ ref('kpi_applicability') }} as a
inner join {{ ref('int_kpi_tree') }} as t on a.node_code = t.node_code
