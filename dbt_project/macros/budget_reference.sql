{#- The budget reference of the quality indices (plan L4626-4640, L1093-1095): the median of an
    elementary value over the structures of the same cost cluster, whatever their level (a production structure
    takes its region's cluster). A structure without a cluster (the nation) is compared with every clustered
    structure: the row with cost_cluster NULL. Join it with `cost_cluster is not distinct from`.
    `relation` has cost_cluster, the `keys`, `period` and `value` columns. -#}
{% macro cluster_median_reference(relation, keys, period, value) -%}
    select
        cost_cluster,
        {{ keys | join(',\n        ') }},
        {{ period }},
        median({{ value }}) as budget_value
    from {{ relation }}
    where cost_cluster is not null and {{ value }} is not null
    group by all
    union all
    select
        null as cost_cluster,
        {{ keys | join(',\n        ') }},
        {{ period }},
        median({{ value }}) as budget_value
    from {{ relation }}
    where cost_cluster is not null and {{ value }} is not null
    group by all
{%- endmacro %}


{#- `relation` (with structure_code) and each structure's cost cluster: its own, or its regional entity's. -#}
{% macro with_cost_cluster(relation) -%}
    select
        x.*,
        coalesce(s.cost_cluster, r.cost_cluster) as cost_cluster
    from {{ relation }} as x
    inner join {{ ref('structures') }} as s on x.structure_code = s.structure_code
    left join {{ ref('structures') }} as r on s.regional_entity_code = r.structure_code
{%- endmacro %}
