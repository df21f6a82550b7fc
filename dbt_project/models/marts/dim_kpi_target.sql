-- How each annual target was obtained, per node x structure x year (the annual level of int_kpi_targets):
-- its value in plan units and in the sample's units, its plan line, and its source: a seed row, a rule (its
-- base, factor and increment, with the base's value), or the national target taken by a structure without its
-- own (target_fallbacks). Only where the node applies (a national rule also fills structures it never scores).
with annual as (
    select distinct
        year(period_end) as year,
        structure_code,
        node_code,
        plan_annual_target,
        annual_target,
        target_plan_line,
        target_source
    from {{ ref('int_kpi_targets') }}
)

select
    a.node_code,
    a.structure_code,
    a.year::integer as year,
    a.plan_annual_target::double as plan_annual_target,
    a.annual_target::double as annual_target,
    a.target_plan_line::varchar as plan_line,
    a.target_source::varchar as target_source,
    case
        when a.target_source like 'national %' then 'national fallback'
        when a.target_source like 'rule%' then 'rule'
        when a.target_source like 'scenario%' then 'scenario'
        else 'seed'
    end::varchar as target_method,
    p.base_value::double as rule_base_value
from annual as a
left join {{ ref('int_kpi_plan_targets') }} as p
    on
        a.node_code = p.node_code
        and a.year = p.year
        and p.structure_code = case when a.target_source like 'national %' then 'nazionale' else a.structure_code end
where exists (
    select 1
    from {{ ref('structures') }} as s
    inner join {{ ref('int_kpi_applicability') }} as ap on s.level = ap.level
    where s.structure_code = a.structure_code and ap.node_code = a.node_code and ap.applies
)
