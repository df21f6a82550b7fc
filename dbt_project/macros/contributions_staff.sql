{#
    What one staff row contributes, once: the FTE splits of the efficiency KPIs (docs/decisions.md §6, §8) and the headcount
    and smart workers of C.1. int_staff_monthly and int_kpi_actuals_staff sum these columns; int_contrib_staff
    lists them row by row for `piramide trace`. A split is NULL where the row does not count in it.
#}
{% macro staff_facts() %}
    select
        s.*,
        st.level as structure_level,
        case when s.role = 'production' and a.in_productivity_scope then s.fte end as fte_production_scope,
        case when s.role = 'production' and st.level = 'provincial' then s.fte end as fte_production_structures_prod,
        case when s.role <> 'regional_office' and st.level = 'provincial' then s.fte end
            as fte_production_structures_all
    from {{ ref('stg_staff') }} as s
    inner join {{ ref('structures') }} as st on s.structure_code = st.structure_code
    left join (
        select
            sub_area_code,
            bool_or(in_productivity_scope) as in_productivity_scope
        from {{ ref('product_catalogue') }}
        group by sub_area_code
    ) as a on s.sub_area_code = a.sub_area_code
{% endmacro %}
