{#- Target rows whose structure sits at a level where the node does not apply (kpi_applicability says
    applies = false); the seed has a row for every node at every level, the central producers' included. -#}
{% test target_level_applies(model, structures, applicability) %}
select t.*
from {{ model }} as t
join {{ structures }} as s on s.structure_code = t.structure_code
join {{ applicability }} as a on a.node_code = t.node_code and a.level = s.level
where not a.applies
{% endtest %}
