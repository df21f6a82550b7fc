-- One line per contact and side of each Customer Care elementary part it counts in (contract:
-- int_contrib_practices.sql): per channel the % answered within the standard, the mean working days to first
-- response and the % of open contacts beyond the standard, and over all channels the % closed at first
-- response. Which contacts count and how much: macros/contributions_contacts.sql, the very measures
-- int_kpi_actuals_contacts cumulates. Credited to the contact's structure and rolled up its ancestors.
{{ config(materialized='view') }}
{%- set measures, parts = {}, [] %}
{%- do contact_measures(measures) %}
{%- do contact_parts(parts) %}
{%- for p in parts %}
{%- set outer = loop %}
{%- for side in ['numerator', 'denominator'] %}
{%- set m = measures[p[side]] %}
select
    ('CUSTOMER_CARE.' || {{ "channel_code || '.' || " if p.per_channel }}'{{ p.component }}')::varchar
        as quantity_code,
    '{{ side }}' as side,
    structure_code,
    true as rolls_up,
    date_trunc('month', {{ m['from'] }})::date as first_month,
    {%- if m.until %}
    {{ stock_last_month("date_trunc('month', " ~ m.until ~ ")::date") }} as last_month,
    {%- else %}
    {{ ytd_last_month("date_trunc('month', " ~ m['from'] ~ ")") }} as last_month,
    {%- endif %}
    ({{ m.value }})::double as contribution,
    '{{ m.unit }}' as unit,
    delivery_id,
    _file as file,
    _row as row,
    contact_id as business_key,
    to_json({
        channel: channel_code,
        opened_on: opened_on,
        first_response_on: responded_on,
        closed_on: closed_on,
        response_working_days: response_working_days,
        standard_working_days: standard_working_days,
        overdue_from: overdue_from,
        closed_at_first_response: closed_at_first_response
    })::varchar as attributes
from ({{ contact_facts() | indent(4) }}) as c
where {{ contact_measure_rows(m) }}
{% if not (outer.last and loop.last) %}union all{% endif %}
{%- endfor %}
{%- endfor %}
