{#- Fails when sum(column) over the filtered rows differs from expected by more than tolerance. -#}
{% test sum_equals(model, column_name, expected, tolerance=0, row_filter=none) %}
select sum({{ column_name }}) as actual_sum, {{ expected }} as expected_sum
from {{ model }}
{% if row_filter %}where {{ row_filter }}{% endif %}
having sum({{ column_name }}) is null or abs(sum({{ column_name }}) - ({{ expected }})) > {{ tolerance }}
{% endtest %}
