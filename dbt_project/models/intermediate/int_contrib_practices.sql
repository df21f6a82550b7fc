-- One line per practice and practice-based quantity it counts in: what `piramide trace` lists for production,
-- backlog, outflow, productivity (points side), the practice KPIs, cost per point (points side) and the three
-- elementary quality values of a product (QUALITY.<indicator>, int_quality_values: the trace of one product
-- of a quality index filters them on the product, `piramide trace QUALITY_x ... --product CODE`). The flags
-- come from macros/contributions_practices.sql, the very columns the practice cube sums.
-- The contract of every int_contrib_* view: a line counts for quantity_code on its side at every month-end
-- whose month lies in [first_month, last_month], for structure_code and (rolls_up) each of its ancestors, with
-- `contribution` in `unit`; delivery_id, file and row point at the raw row it comes from.
-- A view: the trace streams it filtered to one quantity, structure and month, and each branch below has a
-- constant quantity (or a one-column one), so DuckDB prunes every branch but the traced one.
{{ config(materialized='view') }}
{#- When a line counts: its month window (macros/month_windows.sql, the aggregates' windows), and the rows it
    needs. -#}
{%- set windows = {
    'backlog': {
        'first': 'received_month',
        'last': stock_last_month('defined_month'),
        'where': 'defined_on is null or defined_month > received_month',
    },
    'over_standard': {
        'first': "date_trunc('month', received_on + standard_days)::date",
        'last': stock_last_month('defined_month'),
        'where': 'defined_on is null or defined_month > received_month',
    },
    'inflow_12m': {
        'first': 'received_month',
        'last': rolling_last_month('received_month', 12),
        'where': 'true',
    },
    'ytd_received': {
        'first': 'received_month',
        'last': ytd_last_month('received_month'),
        'where': 'true',
    },
    'ytd_defined': {
        'first': 'defined_month',
        'last': ytd_last_month('defined_month'),
        'where': 'defined_on is not null',
    },
} %}
{#- Owner attribution unless `producer`; the points of a piece are its product's coefficient. -#}
{%- set rules = [
    {'q': "'IG_' || backlog_group", 'side': 'numerator', 'w': 'backlog', 'when': "coalesce(backlog_group, 'NONE') <> 'NONE'", 'v': 'coefficient_hours', 'unit': 'points'},
    {'q': "'IG_TOTAL'", 'side': 'numerator', 'w': 'backlog', 'when': 'in_total_backlog', 'v': 'coefficient_hours', 'unit': 'points'},
    {'q': "'IG_' || backlog_group", 'side': 'denominator', 'w': 'inflow_12m', 'when': "coalesce(backlog_group, 'NONE') <> 'NONE' and not is_cancelled", 'v': 'coefficient_hours', 'unit': 'points'},
    {'q': "'IG_TOTAL'", 'side': 'denominator', 'w': 'inflow_12m', 'when': 'in_total_backlog and not is_cancelled', 'v': 'coefficient_hours', 'unit': 'points'},
    {'q': "'OUTFLOW'", 'side': 'numerator', 'w': 'ytd_defined', 'when': 'in_total_backlog and is_defined', 'v': '1', 'unit': 'pieces'},
    {'q': "'OUTFLOW'", 'side': 'denominator', 'w': 'ytd_received', 'when': 'in_total_backlog and not is_cancelled', 'v': '1', 'unit': 'pieces'},
    {'q': "'PRODUZIONE_LORDA'", 'side': 'numerator', 'w': 'ytd_defined', 'when': 'in_produzione_lorda and is_defined', 'v': 'coefficient_hours', 'unit': 'points', 'producer': true},
    {'q': "'SUSSIDIARIETA'", 'side': 'numerator', 'w': 'ytd_defined', 'when': 'is_sussidiarieta and is_defined', 'v': 'coefficient_hours', 'unit': 'points', 'producer': true},
    {'q': "'PRODUCTIVITY'", 'side': 'numerator', 'w': 'ytd_defined', 'when': 'in_productivity_scope and is_defined', 'v': 'coefficient_hours', 'unit': 'points', 'producer': true},
    {'q': "'COST_PER_POINT'", 'side': 'denominator', 'w': 'ytd_defined', 'when': 'in_productivity_scope and is_defined', 'v': 'coefficient_hours', 'unit': 'points', 'producer': true},
    {'q': "'RDC_REVIEW_DEFINED_SHARE'", 'side': 'numerator', 'w': 'ytd_defined', 'set': 'G.1', 'when': 'is_defined and review_flag', 'v': '1', 'unit': 'pieces'},
    {'q': "'RDC_REVIEW_DEFINED_SHARE'", 'side': 'denominator', 'w': 'ytd_received', 'set': 'G.1', 'when': 'not is_cancelled and review_flag', 'v': '1', 'unit': 'pieces'},
    {'q': "'FAMILY_SUPPORT_DEFINED_SHARE'", 'side': 'numerator', 'w': 'ytd_defined', 'set': 'G.2', 'when': 'is_defined', 'v': '1', 'unit': 'pieces'},
    {'q': "'FAMILY_SUPPORT_DEFINED_SHARE'", 'side': 'denominator', 'w': 'ytd_received', 'set': 'G.2', 'when': 'not is_cancelled', 'v': '1', 'unit': 'pieces'},
    {'q': "'IMPROVEMENT_PROJECTS.' || project_tag", 'side': 'numerator', 'w': 'ytd_defined', 'when': "is_defined and project_tag in ('A', 'B', 'C')", 'v': '1', 'unit': 'pieces'},
    {'q': "'IMP_CONTINUITY'", 'side': 'numerator', 'w': 'ytd_defined', 'set': 'IMP_CONTINUITY', 'when': 'is_granted_on_time', 'v': '1', 'unit': 'pieces'},
    {'q': "'IMP_CONTINUITY'", 'side': 'denominator', 'w': 'ytd_defined', 'set': 'IMP_CONTINUITY', 'when': 'is_granted', 'v': '1', 'unit': 'pieces'},
    {'q': "'IMP_AVG_TIME'", 'side': 'numerator', 'w': 'ytd_defined', 'set': 'IMP_AVG_TIME', 'when': 'is_granted', 'v': 'days_to_definition', 'unit': 'days'},
    {'q': "'IMP_AVG_TIME'", 'side': 'denominator', 'w': 'ytd_defined', 'set': 'IMP_AVG_TIME', 'when': 'is_granted', 'v': '1', 'unit': 'pieces'},
    {'q': "'QUALITY.share_within_standard'", 'side': 'numerator', 'w': 'ytd_defined', 'when': 'is_within_standard', 'v': '1', 'unit': 'pieces'},
    {'q': "'QUALITY.share_within_standard'", 'side': 'denominator', 'w': 'ytd_defined', 'when': 'is_defined', 'v': '1', 'unit': 'pieces'},
    {'q': "'QUALITY.avg_definition_days'", 'side': 'numerator', 'w': 'ytd_defined', 'when': 'is_defined', 'v': 'days_to_definition', 'unit': 'days'},
    {'q': "'QUALITY.avg_definition_days'", 'side': 'denominator', 'w': 'ytd_defined', 'when': 'is_defined', 'v': '1', 'unit': 'pieces'},
    {'q': "'QUALITY.backlog_over_standard'", 'side': 'numerator', 'w': 'over_standard', 'when': 'true', 'v': '1', 'unit': 'pieces'},
    {'q': "'QUALITY.backlog_over_standard'", 'side': 'denominator', 'w': 'backlog', 'when': 'true', 'v': '1', 'unit': 'pieces'},
] %}

{% for r in rules %}
{%- set w = windows[r.w] %}
select
    ({{ r.q }})::varchar as quantity_code,
    '{{ r.side }}' as side,
    {{ 'producing_structure_code' if r.producer else 'structure_code' }} as structure_code,
    true as rolls_up,
    {{ w.first }} as first_month,
    {{ w.last }} as last_month,
    ({{ r.v }})::double as contribution,
    '{{ r.unit }}' as unit,
    delivery_id,
    _file as file,
    _row as row,
    practice_id as business_key,
    {%- raw %}
    to_json({
        product: product_code,
        owner: structure_code,
        producer: producing_structure_code,
        received_on: received_on,
        defined_on: defined_on,
        outcome: outcome,
        review_flag: review_flag,
        project_tag: project_tag
    })::varchar as attributes
    {%- endraw %}
from ({{ practice_facts(ref('stg_practices')) | indent(4) }}) as f
where
    ({{ w.where }})
    and ({{ r.when }})
    {%- if r.set %}
    and product_code in (
        select ps.product_code
        from {{ ref('kpi_product_set') }} as ps
        where ps.kpi_code = '{{ r.set }}'
    )
    {%- endif %}
{% if not loop.last %}union all{% endif %}
{% endfor %}
