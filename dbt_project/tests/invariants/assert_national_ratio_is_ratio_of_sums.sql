-- A national ratio is the ratio of national sums, never a mean of regional ratios: recomputed here from the
-- regional entities' and central structures' own numerators and denominators (central rows count in the
-- nation only), not from the national row, so a national value taken any other way fails. The KPI's scale
-- (1, 100 for a percent, 360 days for a backlog index) is read off the regional rows.
with children as (
    select
        a.period_end,
        a.quantity_code,
        sum(a.numerator) as numerator,
        sum(a.denominator) as denominator,
        round(median(a.actual_value * a.denominator / a.numerator) filter (
            where s.level = 'regional' and a.numerator <> 0 and a.denominator <> 0
        )) as scale
    from {{ ref('int_kpi_actuals') }} as a
    inner join {{ ref('structures') }} as s on a.structure_code = s.structure_code
    where
        s.level in ('regional', 'central')
        -- Finance has rows booked at the nation itself, which no region holds: its ratios are checked by
        -- the trace tests (tests/trace) instead.
        and a.source_model in ('int_kpi_actuals_production', 'int_kpi_actuals_practices', 'int_kpi_actuals_staff')
        and a.denominator is not null
    group by all
)

select
    n.*,
    c.numerator as regions_numerator,
    c.denominator as regions_denominator,
    c.scale,
    c.scale * c.numerator / c.denominator as expected_actual
from {{ ref('int_kpi_actuals') }} as n
inner join children as c on n.period_end = c.period_end and n.quantity_code = c.quantity_code
where
    n.structure_code = 'nazionale'
    and c.denominator <> 0
    and c.scale is not null
    and (
        n.actual_value is null
        or abs(n.actual_value - c.scale * c.numerator / c.denominator)
        > 1e-9 * greatest(1, abs(c.scale * c.numerator / c.denominator))
    )
