{#- The warehouse's schemas are fixed names (raw, reference, staging, intermediate, marts, audit):
    BI tools and auditors rely on them, so dbt's target-prefixing is switched off.
    A what-if run (var `scenario`) re-scores the models tagged `scenario_rescored` into the `scenario` schema, so
    the baseline marts are never written by it; every other ref keeps resolving to its normal schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if scenario_name() | trim != '' and node is not none and 'scenario_rescored' in (node.tags or []) -%}scenario
    {%- elif custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

{#- Several scenarios live side by side in the `scenario` schema: each re-scored model gets the scenario's name
    as a suffix (int_kpi_weights__processi30). -#}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- set base = (custom_alias_name | trim) if custom_alias_name else node.name -%}
    {%- set scenario = scenario_name() | trim -%}
    {%- if scenario != '' and node is not none and 'scenario_rescored' in (node.tags or []) -%}
        {{ base }}__{{ scenario }}
    {%- else -%}{{ base }}{%- endif -%}
{%- endmacro %}
