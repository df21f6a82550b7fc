-- One line per cost or revenue row and quantity it counts in (contract: int_contrib_practices.sql), in euros,
-- year to date. What each row counts in comes from macros/contributions_finance.sql, the very columns
-- int_finance_monthly sums.
{{ config(materialized='view') }}
{%- set rules = [
    {'q': 'PROFITABILITY', 'side': 'denominator', 'col': 'total_costs', 'family': 'cost'},
    {'q': 'DIRECT_COST_SHARE', 'side': 'numerator', 'col': 'direct_costs', 'family': 'cost'},
    {'q': 'DIRECT_COST_SHARE', 'side': 'denominator', 'col': 'total_costs', 'family': 'cost'},
    {'q': 'DIRECT_PROD_COST_SHARE', 'side': 'numerator', 'col': 'direct_prod_costs', 'family': 'cost'},
    {'q': 'DIRECT_PROD_COST_SHARE', 'side': 'denominator', 'col': 'total_costs', 'family': 'cost'},
    {'q': 'COST_PER_POINT', 'side': 'numerator', 'col': 'total_costs', 'family': 'cost'},
    {'q': 'IMP_LITIGATION', 'side': 'numerator', 'col': 'litigation_costs', 'family': 'cost'},
    {'q': 'PROFITABILITY', 'side': 'numerator', 'col': 'coalesce(ieep_entrate, ieep_prestazioni)', 'family': 'revenue'},
    {'q': 'IEEP.ENTRATE', 'side': 'numerator', 'col': 'ieep_entrate', 'family': 'revenue'},
    {'q': 'IEEP.PRESTAZIONI', 'side': 'numerator', 'col': 'ieep_prestazioni', 'family': 'revenue'},
    {'q': 'IMP_INSPECTION', 'side': 'numerator', 'col': 'inspection_collections', 'family': 'revenue'},
] %}

{% for r in rules %}
select
    '{{ r.q }}' as quantity_code,
    '{{ r.side }}' as side,
    structure_code,
    true as rolls_up,
    month_start as first_month,
    (date_trunc('year', month_start) + interval 11 month)::date as last_month,
    ({{ r.col }})::double as contribution,
    'EUR' as unit,
    delivery_id,
    _file as file,
    _row as row,
    {%- if r.family == 'cost' %}
    structure_code || '/' || strftime(month_start, '%Y-%m') || '/' || cost_nature as business_key,
    {%- raw %}
    to_json({
        structure: structure_code, month: month_start, cost_nature: cost_nature, cost_class: cost_class,
        is_closing: is_closing, amount_eur: amount_eur
    })::varchar as attributes
    {%- endraw %}
    {%- else %}
    structure_code || '/' || strftime(month_start, '%Y-%m') || '/' || item_code as business_key,
    {%- raw %}
    to_json({
        structure: structure_code, month: month_start, item: item_code, section: section,
        effective_sign: effective_sign, amount_eur: amount_eur
    })::varchar as attributes
    {%- endraw %}
    {%- endif %}
from ({{ cost_facts() if r.family == 'cost' else revenue_facts() }}) as f
where ({{ r.col }}) is not null
{% if not loop.last %}union all{% endif %}
{% endfor %}
