{#- The warehouse's schemas are fixed names (raw, reference, staging, intermediate, marts, audit):
    BI tools and auditors rely on them, so dbt's target-prefixing is switched off. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
