{#- docs/decisions.md §2: a zero or NULL target on a scored node (kind leaf, composite or part) is a configuration error.
    `model` is a long-format target table; `nodes` the node tree (kpi_nodes). -#}
{% test scored_target_not_zero(model, column_name, nodes, node_column='node_code') %}
select t.*
from {{ model }} as t
join {{ nodes }} as n on n.node_code = t.{{ node_column }}
where n.kind in ('leaf', 'composite', 'part')
  and (t.{{ column_name }} is null or t.{{ column_name }} = 0)
{% endtest %}
