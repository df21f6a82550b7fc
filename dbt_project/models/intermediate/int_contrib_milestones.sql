-- One line per milestone report and side of its project leaf (contract: int_contrib_practices.sql): the
-- record's completion on the numerator, one record on the denominator, at the nation only. Which report counts
-- at a month-end: macros/contributions_milestones.sql, the very window int_kpi_actuals_milestones reads.
{{ config(materialized='view') }}
{% for side in ['numerator', 'denominator'] %}
select
    r.leaf_code as quantity_code,
    '{{ side }}' as side,
    n.structure_code,
    false as rolls_up,
    r.first_month,
    r.last_month,
    {{ 'r.completion' if side == 'numerator' else '1.0' }}::double as contribution,
    '{{ 'completion' if side == 'numerator' else 'records' }}' as unit,
    r.delivery_id,
    r._file as file,
    r._row as row,
    r.project_id as business_key,
    to_json({project: r.project_id, as_of: r.as_of, completion: r.completion, evidence: r.evidence})::varchar
        as attributes
from ({{ milestone_facts() }}) as r
cross join (
    select structure_code
    from {{ ref('structures') }}
    where level = 'national'
) as n
{% if not loop.last %}union all{% endif %}
{% endfor %}
