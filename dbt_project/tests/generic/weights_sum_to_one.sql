{#- Groups (by group_by columns) whose weights do not sum to 1 within tolerance.
    row_filter restricts the rows that take part (e.g. siblings that carry a weight). -#}
{% test weights_sum_to_one(model, group_by, weight_column='weight', row_filter=none, tolerance=1e-9) %}
select {{ group_by | join(', ') }}, sum({{ weight_column }}) as weight_sum, count(*) as n_rows
from {{ model }}
{% if row_filter %}where {{ row_filter }}{% endif %}
group by {{ group_by | join(', ') }}
having abs(sum({{ weight_column }}) - 1.0) > {{ tolerance }} or count({{ weight_column }}) < count(*)
{% endtest %}
