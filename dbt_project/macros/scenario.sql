{#- What-if scenarios (`piramide whatif`): the overrides live in scenario.overrides, written by Python with bound
    parameters; the scoring models read them only when the var `scenario` names a scenario. -#}

{#- The scenario being computed, or '' (normal runs). The name becomes part of table names and of a SQL
    literal, so it is checked here as well as in Python: only lower-case identifiers get through. Written
    without `return` so that sqlfluff's templater renders the models that call it. -#}
{% macro scenario_name() -%}
    {%- set raw = var('scenario', none) -%}
    {%- if raw is not none and raw | string != '' -%}
        {%- set name = raw | string -%}
        {%- set allowed = 'abcdefghijklmnopqrstuvwxyz0123456789_' -%}
        {%- if name | length > 40 or name[0] not in allowed[:26]
            or name | select('in', allowed) | list | length != name | length -%}
            {{ exceptions.raise_compiler_error("invalid scenario name " ~ name[:60] ~ ": 1-40 lower-case letters, digits, _") }}
        {%- endif -%}
        {{- name -}}
    {%- endif -%}
{%- endmacro %}

{#- The scenario's overrides of one kind (weight | target). Not a dbt source: the normal build must not depend
    on a table only what-if runs create, nor Dagster see an asset nothing materialises. -#}
{% macro scenario_overrides(kind) -%}
    (
        select node_code, structure_code, year, value
        from {{ this.database }}.scenario.overrides
        where scenario_name = '{{ scenario_name() }}' and override_kind = '{{ kind }}'
    )
{%- endmacro %}
