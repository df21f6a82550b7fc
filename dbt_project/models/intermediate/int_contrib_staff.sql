-- One line per staff row and quantity it counts in (contract: int_contrib_practices.sql): FTE-months of the
-- productivity and production-share year-to-date sums, persons of C.1 at the month end. The splits come from
-- macros/contributions_staff.sql, the very columns int_staff_monthly sums.
{{ config(materialized='view') }}
{%- set rules = [
    {'q': 'PRODUCTIVITY', 'side': 'denominator', 'col': 'fte_production_scope', 'unit': 'FTE-months', 'ytd': true},
    {'q': 'STAFF_PROD_SHARE', 'side': 'numerator', 'col': 'fte_production_structures_prod', 'unit': 'FTE-months', 'ytd': true},
    {'q': 'STAFF_PROD_SHARE', 'side': 'denominator', 'col': 'fte_production_structures_all', 'unit': 'FTE-months', 'ytd': true},
    {'q': 'SMART_WORKING_SHARE', 'side': 'numerator', 'col': 'smart_workers', 'unit': 'persons', 'ytd': false},
    {'q': 'SMART_WORKING_SHARE', 'side': 'denominator', 'col': 'headcount', 'unit': 'persons', 'ytd': false},
] %}

{% for r in rules %}
select
    '{{ r.q }}' as quantity_code,
    '{{ r.side }}' as side,
    structure_code,
    true as rolls_up,
    month_start as first_month,
    {{ "(date_trunc('year', month_start) + interval 11 month)::date" if r.ytd else 'month_start' }} as last_month,
    {{ r.col }}::double as contribution,
    '{{ r.unit }}' as unit,
    delivery_id,
    _file as file,
    _row as row,
    structure_code || '/' || strftime(month_start, '%Y-%m') || '/' || sub_area_code || '/' || role as business_key,
    {%- raw %}
    to_json({
        structure: structure_code,
        structure_level: structure_level,
        month: month_start,
        sub_area: sub_area_code,
        role: role,
        fte: fte,
        presence_days: presence_days,
        working_days: working_days
    })::varchar as attributes
    {%- endraw %}
from ({{ staff_facts() | indent(4) }}) as s
where {{ r.col }} is not null
{% if not loop.last %}union all{% endif %}
{% endfor %}
