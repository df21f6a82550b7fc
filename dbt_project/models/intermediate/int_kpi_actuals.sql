-- Every elementary quantity in one long table (period_end x structure x quantity): the single place the
-- scoring layer reads actuals from, whatever extract they come from.
select period_end, structure_code, quantity_code, numerator, denominator, actual_value
from {{ ref('int_kpi_actuals_production') }}
