-- Which node applies at which structure level. The PG tree applies at every level and the rest at the
-- national level only, unless the applicability seed says otherwise for a node and level.
with levels as (
    select unnest(['national', 'regional', 'provincial', 'central']) as level
)

select
    t.node_code,
    levels.level,
    coalesce(
        a.applies,
        case when t.in_pg_tree then levels.level in ('national', 'regional', 'provincial') else levels.level = 'national' end
    ) as applies,
    coalesce(a.absent_without_target, false) as absent_without_target
from {{ ref('int_kpi_tree') }} as t
cross join levels
left join {{ ref('kpi_applicability') }} as a on t.node_code = a.node_code and levels.level = a.level
