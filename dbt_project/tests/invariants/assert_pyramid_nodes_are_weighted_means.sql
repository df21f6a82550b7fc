-- Every node that is not a leaf or composite has the weighted mean of its children's scores, and the
-- weighted mean of their coverage over all its children (KPI_SPEC 2).
with children as (
    select
        c.period_end,
        c.structure_code,
        c.parent_code,
        sum(c.weight * c.score) filter (where c.score is not null)
        / nullif(sum(c.weight) filter (where c.score is not null), 0) as expected_score,
        sum(c.weight * c.weight_coverage) / sum(c.weight) as expected_coverage
    from {{ ref('fct_value_pyramid') }} as c
    where c.parent_code is not null
    group by all
)

select p.*, ch.expected_score, ch.expected_coverage
from {{ ref('fct_value_pyramid') }} as p
inner join children as ch
    on p.period_end = ch.period_end and p.structure_code = ch.structure_code and p.node_code = ch.parent_code
where
    p.node_kind not in ('leaf', 'composite')
    and (
        abs(coalesce(p.score, -1) - coalesce(ch.expected_score, -1)) > 1e-9
        or abs(p.weight_coverage - ch.expected_coverage) > 1e-9
    )
