-- Every elementary quantity in one long table (period_end x structure x quantity): the single place the
-- scoring layer reads actuals from, whatever extract they come from. Each source model has exactly these
-- columns: period_end, structure_code, quantity_code, numerator, denominator, actual_value,
-- value_vs_budget (quality indices: the index against the cluster budget), dq_note (e.g. 'stale');
-- source_model names the model, so lineage can walk from any actual to the staging rows behind it.
{%- set sources = [
    'int_kpi_actuals_production',
    'int_kpi_actuals_contacts',
    'int_kpi_actuals_survey',
    'int_kpi_actuals_costs',
    'int_kpi_actuals_revenue',
    'int_kpi_actuals_measures',
    'int_kpi_actuals_milestones',
    'int_kpi_actuals_practices',
    'int_kpi_actuals_quality',
    'int_kpi_actuals_staff',
] %}
{% for model in sources %}
select
    period_end::date as period_end,
    structure_code::varchar as structure_code,
    quantity_code::varchar as quantity_code,
    numerator::double as numerator,
    denominator::double as denominator,
    actual_value::double as actual_value,
    value_vs_budget::double as value_vs_budget,
    dq_note::varchar as dq_note,
    '{{ model }}' as source_model
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
