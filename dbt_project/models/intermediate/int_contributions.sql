-- Every contribution line of every row-based quantity, one view for `piramide trace` (the contract is in
-- int_contrib_practices.sql). Each branch keeps its constant or one-column quantity_code, so a trace filtered
-- to one quantity only reads the families that can feed it.
{{ config(materialized='view') }}
{%- set families = ['int_contrib_practices', 'int_contrib_staff', 'int_contrib_finance', 'int_contrib_measures',
                    'int_contrib_survey', 'int_contrib_milestones', 'int_contrib_contacts'] %}
{% for model in families %}
select
    quantity_code,
    side,
    structure_code,
    rolls_up,
    first_month,
    last_month,
    contribution,
    unit,
    delivery_id,
    file,
    row,
    business_key,
    attributes,
    '{{ model }}' as source_model
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
