-- One line per survey response and side of IMP_REPUTATION (contract: int_contrib_practices.sql): its overall
-- score on the numerator, one response on the denominator, at the nation only. Which responses count at a
-- month-end: macros/contributions_survey.sql, the very window int_kpi_actuals_survey reads.
{{ config(materialized='view') }}
{% for side in ['numerator', 'denominator'] %}
select
    'IMP_REPUTATION' as quantity_code,
    '{{ side }}' as side,
    n.structure_code,
    false as rolls_up,
    s.first_month,
    s.last_month,
    {{ 's.overall_score' if side == 'numerator' else '1.0' }}::double as contribution,
    '{{ 'score points' if side == 'numerator' else 'responses' }}' as unit,
    s.delivery_id,
    s._file as file,
    s._row as row,
    s.response_id as business_key,
    to_json({
        wave: s.wave, channel: s.channel_code, overall_score: s.overall_score,
        first_delivery_month: s.first_delivery_month
    })::varchar as attributes
from ({{ survey_facts() }}) as s
cross join (
    select structure_code
    from {{ ref('structures') }}
    where level = 'national'
) as n
where s.overall_score is not null
{% if not loop.last %}union all{% endif %}
{% endfor %}
