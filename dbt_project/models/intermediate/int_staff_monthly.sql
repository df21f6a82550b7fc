-- Staff FTE per structure x month, split the way the efficiency KPIs need it.
with sub_areas as (
    select
        sub_area_code,
        bool_or(in_productivity_scope) as in_productivity_scope
    from {{ ref('product_catalogue') }}
    group by sub_area_code
)

select
    s.structure_code,
    s.month_start,
    sum(s.fte) filter (where s.role = 'production' and a.in_productivity_scope) as fte_production_scope,
    sum(s.fte) filter (where s.role = 'production' and st.level = 'provincial') as fte_production_structures_prod,
    sum(s.fte) filter (where s.role <> 'regional_office' and st.level = 'provincial') as fte_production_structures_all,
    sum(s.fte) as fte_all,
    sum(s.headcount) as headcount,
    sum(s.smart_workers) as smart_workers
from {{ ref('stg_staff') }} as s
inner join {{ ref('structures') }} as st on s.structure_code = st.structure_code
left join sub_areas as a on s.sub_area_code = a.sub_area_code
group by all
