-- What BI reads at the nation is what the regions add up to: for the additive production and practice
-- quantities, the national numerator and denominator of marts.fct_kpi_scores equal the sum over the regional
-- entities and the central producers, recomputed from the intermediate actuals.
with regions as (
    select
        a.period_end,
        a.quantity_code,
        sum(a.numerator) as numerator,
        sum(a.denominator) as denominator
    from {{ ref('int_kpi_actuals') }} as a
    inner join {{ ref('structures') }} as s on a.structure_code = s.structure_code
    where
        a.source_model in ('int_kpi_actuals_production', 'int_kpi_actuals_practices')
        and s.level in ('regional', 'central')
    group by all
)

select
    n.period_end,
    n.kpi_code,
    n.numerator,
    r.numerator as regions_numerator,
    n.denominator,
    r.denominator as regions_denominator
from {{ ref('fct_kpi_scores') }} as n
inner join {{ ref('dim_structure') }} as d on n.structure_code = d.structure_code
inner join regions as r on n.period_end = r.period_end and n.kpi_code = r.quantity_code
where
    d.level = 'national'
    and (
        abs(coalesce(n.numerator, 0) - coalesce(r.numerator, 0)) > 1e-6 * greatest(1, abs(coalesce(r.numerator, 0)))
        or abs(coalesce(n.denominator, 0) - coalesce(r.denominator, 0))
        > 1e-6 * greatest(1, abs(coalesce(r.denominator, 0)))
    )
