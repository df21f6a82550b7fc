-- A national ratio is computed from national sums, never as a mean of regional ratios.
select *
from {{ ref('int_kpi_actuals') }}
where
    structure_code = 'nazionale'
    and quantity_code in ('OUTFLOW', 'PRODUCTIVITY')
    and abs(actual_value - numerator / nullif(denominator, 0)) > 1e-9
union all
select *
from {{ ref('int_kpi_actuals') }}
where
    structure_code = 'nazionale'
    and quantity_code like 'IG\_%' escape '\'
    and abs(actual_value - numerator / nullif(denominator, 0) * 360) > 1e-9
