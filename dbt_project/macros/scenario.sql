{#- What-if scenarios (`piramide whatif`): the overrides live in scenario.overrides, written by Python with bound
    parameters; the scoring models read them only when the var `scenario` names a scenario. -#}

{#- The scenario being computed, or none. The name becomes part of table names and of a SQL literal, so it is
    checked here as well as in Python: only lower-case identifiers get through. -#}
{% macro scenario_name() -%}
    {%- set name = var('scenario', none) -%}
    {%- if name is none or name == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[a-z][a-z0-9_]{0,39}', name | string) -%}
        {{ exceptions.raise_compiler_error("invalid scenario name " ~ (name | string)[:60] ~ ": lower-case letters, digits, _") }}
    {%- endif -%}
    {{ return(name | string) }}
{%- endmacro %}

{% macro is_rescored_in_scenario(node) -%}
    {{ return(scenario_name() is not none and node is not none and 'scenario_rescored' in (node.tags or [])) }}
{%- endmacro %}

{#- The scenario's overrides of one kind (weight | target). Not a dbt source: the normal build must not depend
    on a table only what-if runs create. -#}
{% macro scenario_overrides(kind) -%}
    (
        select node_code, structure_code, year, value
        from {{ target.database }}.scenario.overrides
        where scenario_name = '{{ scenario_name() }}' and override_kind = '{{ kind }}'
    )
{%- endmacro %}
