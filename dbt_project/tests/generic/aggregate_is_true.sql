{#- Fails (one row) when the aggregate boolean expression over the whole model is not true,
    e.g. "count(*) filter (where is_leaf) = 19". -#}
{% test aggregate_is_true(model, expression) %}
select 1 as failed
from {{ model }}
having not coalesce(({{ expression }}), false)
{% endtest %}
