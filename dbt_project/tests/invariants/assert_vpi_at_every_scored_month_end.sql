-- The national VPI exists at every month-end that has KPI scores: a month the pyramid cannot root is a broken
-- tree, not a quiet gap.
select distinct s.period_end
from {{ ref('fct_kpi_scores') }} as s
inner join {{ ref('dim_structure') }} as d on s.structure_code = d.structure_code
where
    d.level = 'national'
    and not exists (
        select 1
        from {{ ref('fct_value_pyramid') }} as p
        where p.period_end = s.period_end and p.structure_code = s.structure_code and p.node_code = 'VPI'
    )
