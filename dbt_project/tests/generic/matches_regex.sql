{#- Non-null values of the column that do not fully match the regular expression. -#}
{% test matches_regex(model, column_name, regex) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not regexp_full_match(cast({{ column_name }} as varchar), '{{ regex }}')
{% endtest %}
