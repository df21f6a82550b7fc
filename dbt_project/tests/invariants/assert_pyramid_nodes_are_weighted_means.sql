-- Every node that is not a leaf or composite has the weighted mean of its children's scores, and the weighted
-- mean of their coverage over all its children (docs/decisions.md §3), with the weights taken from the seeds
-- (perspective_weights at the structure's level, else kpi_nodes; plan L4330-4373), never from the table under
-- test: a wrong weight in the pyramid's own weights fails here, and so does a stored weight that is not the
-- seed's.
with seed_weights as (
    select
        n.node_code,
        n.parent_code,
        s.structure_code,
        coalesce(pw.weight, n.weight)::double as weight
    from {{ ref('kpi_nodes') }} as n
    cross join {{ ref('structures') }} as s
    left join {{ ref('perspective_weights') }} as pw on n.node_code = pw.node_code and s.level = pw.level
    where n.kind not in ('part', 'reported')
),

children as (
    select
        c.period_end,
        c.structure_code,
        w.parent_code,
        sum(w.weight * c.score) filter (where c.score is not null)
        / nullif(sum(w.weight) filter (where c.score is not null), 0) as expected_score,
        sum(w.weight * c.weight_coverage) / nullif(sum(w.weight), 0) as expected_coverage
    from {{ ref('fct_value_pyramid') }} as c
    inner join seed_weights as w on c.node_code = w.node_code and c.structure_code = w.structure_code
    group by all
)

select
    p.period_end,
    p.structure_code,
    p.node_code,
    p.score,
    p.weight_coverage,
    ch.expected_score,
    ch.expected_coverage,
    null::double as weight,
    null::double as seed_weight
from {{ ref('fct_value_pyramid') }} as p
inner join children as ch
    on p.period_end = ch.period_end and p.structure_code = ch.structure_code and p.node_code = ch.parent_code
where
    p.node_kind not in ('leaf', 'composite')
    and (
        abs(coalesce(p.score, -1) - coalesce(ch.expected_score, -1)) > 1e-9
        or abs(p.weight_coverage - ch.expected_coverage) > 1e-9
    )
union all
select
    p.period_end,
    p.structure_code,
    p.node_code,
    p.score,
    p.weight_coverage,
    null as expected_score,
    null as expected_coverage,
    p.weight,
    w.weight as seed_weight
from {{ ref('fct_value_pyramid') }} as p
inner join seed_weights as w on p.node_code = w.node_code and p.structure_code = w.structure_code
where p.parent_code is not null and p.weight is distinct from w.weight
