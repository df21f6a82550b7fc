{#- Every node of the given kinds that applies at national level has a target row for `structure_code` and
    `year` in the long-format target table (`model` is kpi_nodes). Nodes whose target is computed (the
    Customer Care elementary indicators, compared with the previous year) are excluded by `row_filter`. -#}
{% test scored_nodes_have_target(model, targets, applicability, structure_code='nazionale', year=2021, kinds=['leaf', 'composite', 'part', 'reported'], row_filter=none) %}
select n.node_code
from {{ model }} as n
join {{ applicability }} as a on a.node_code = n.node_code and a.level = 'national' and a.applies
left join {{ targets }} as t
  on t.node_code = n.node_code and t.structure_code = '{{ structure_code }}' and t.year = {{ year }}
where n.kind in ('{{ kinds | join("', '") }}')
  and t.node_code is null
  {% if row_filter %}and ({{ row_filter }}){% endif %}
{% endtest %}
