{#- Every value of `column_name` appears once with every value in `values` of `other_column`
    (e.g. every node × the three structure levels in kpi_applicability). -#}
{% test complete_matrix(model, column_name, other_column, values) %}
select {{ column_name }}, count(distinct {{ other_column }}) as n_values
from {{ model }}
where {{ other_column }} in ('{{ values | join("', '") }}')
group by {{ column_name }}
having count(distinct {{ other_column }}) <> {{ values | length }}
{% endtest %}
