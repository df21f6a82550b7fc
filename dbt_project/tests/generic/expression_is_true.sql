{#- Rows for which the boolean expression is not true (NULL counts as a failure). -#}
{% test expression_is_true(model, expression, row_filter=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% if row_filter %}and ({{ row_filter }}){% endif %}
{% endtest %}
