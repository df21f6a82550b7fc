-- National additive quantities equal the sum over the 23 regional entities plus the central producers
-- (central rows count in the nation only), and a national ratio is the ratio of national sums.
with additive as (
    select a.period_end, a.quantity_code, s.level, sum(a.numerator) as numerator, sum(a.denominator) as denominator
    from {{ ref('int_kpi_actuals') }} as a
    inner join {{ ref('structures') }} as s on a.structure_code = s.structure_code
    where
        a.source_model in ('int_kpi_actuals_production', 'int_kpi_actuals_practices')
        and s.level in ('national', 'regional', 'central')
    group by all
),

compared as (
    select
        n.period_end,
        n.quantity_code,
        n.numerator as national_numerator,
        coalesce(r.numerator, 0) + coalesce(c.numerator, 0) as regions_numerator,
        n.denominator as national_denominator,
        coalesce(r.denominator, 0) + coalesce(c.denominator, 0) as regions_denominator
    from additive as n
    left join additive as r on n.period_end = r.period_end and n.quantity_code = r.quantity_code and r.level = 'regional'
    left join additive as c on n.period_end = c.period_end and n.quantity_code = c.quantity_code and c.level = 'central'
    where n.level = 'national'
)

select *
from compared
where
    abs(coalesce(national_numerator, 0) - regions_numerator) > 1e-6 * greatest(1, abs(regions_numerator))
    or abs(coalesce(national_denominator, 0) - regions_denominator) > 1e-6 * greatest(1, abs(regions_denominator))
