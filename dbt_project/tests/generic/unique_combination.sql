{#- Rows whose combination of columns is not unique (a composite unique key). dbt_utils is not installable,
    so this replaces dbt_utils.unique_combination_of_columns. NULLs count as values. -#}
{% test unique_combination(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
