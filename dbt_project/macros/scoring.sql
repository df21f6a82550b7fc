{#- The plan's scoring rule, once (docs/decisions.md §2; L2769, L4067, L4297, L4332).
    deviation        = p * (A - T) / |T|
    deviation_capped = min(cap_high, max(-0.5, deviation))
    score            = 100 * (1 + deviation_capped)
    Lower-is-better is the linear mirror through the polarity, never 100*T/A. -#}

{% macro deviation(actual, target, polarity) -%}
    ({{ polarity }} * ({{ actual }} - {{ target }}) / abs({{ target }}))
{%- endmacro %}

{#- DuckDB's least/greatest skip NULLs, so a missing deviation is kept NULL explicitly. -#}
{% macro deviation_capped(deviation_expr, cap_high, cap_low=var('cap_low', -0.5)) -%}
    case
        when ({{ deviation_expr }}) is null then null
        else least({{ cap_high }}, greatest({{ cap_low }}, {{ deviation_expr }}))
    end
{%- endmacro %}

{% macro score(deviation_capped_expr) -%}
    (100 * (1 + {{ deviation_capped_expr }}))
{%- endmacro %}

{#- An elementary index against a reference (quality indices, docs/decisions.md §9): the same rule, NULL when the
    reference is (near) zero instead of a division error. -#}
{% macro index_vs_reference(value, reference, polarity) -%}
    case
        when abs({{ reference }}) < 1e-9 then null
        else {{ score(deviation_capped(deviation(value, reference, polarity), 0.5)) }}
    end
{%- endmacro %}

{#- 1 for real extracts; the sample's scale for generated data (see orchestration.config.target_scale).
    dbt always defines env_var; the guard is for sqlfluff's templater, which does not. -#}
{% macro target_scale() -%}
    {{ (env_var('PIRAMIDE_TARGET_SCALE', '1') if env_var is defined else '1') | float }}
{%- endmacro %}
