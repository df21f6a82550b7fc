-- Composite leaves store their achievement (docs/decisions.md §4): actual = achievement, target = 1, polarity +1.
--   weighted_clamped_ratio (IEEP 70/30 L5195, improvement projects 25/15/60 L4858-4874):
--       sum(w_k * min(1.5, max(0.5, A_k / T_k)))
--   max_of_swapped_weights (two-measure disposals, "70/30 or vice versa" L5853):
--       max(w1*c1 + w2*c2, w2*c1 + w1*c2), c = A / T, uncapped (the leaf's own cap applies after).
-- A composite needs every part's actual and target; otherwise it has no achievement (and no score).
{{ config(tags=['scenario_rescored']) }}
with parts as (
    select
        v.period_end,
        v.structure_code,
        v.parent_code as composite_code,
        t.part_weight,
        v.actual_value / nullif(v.target_value, 0) as ratio,
        row_number() over (
            partition by v.period_end, v.structure_code, v.parent_code
            order by t.part_weight desc, v.kpi_code asc
        ) as part_rank
    from {{ ref('int_kpi_values') }} as v
    inner join {{ ref('int_kpi_tree') }} as t on v.kpi_code = t.node_code
    where v.node_kind = 'part' and t.part_weight is not null
),

per_composite as (
    select
        period_end,
        structure_code,
        composite_code,
        count(*) as n_parts,
        count(ratio) as n_ratios,
        -- Summed in a fixed order (heaviest part first) so the result is the same double on every run.
        list_sum(list(
            part_weight * least(1.5, greatest(0.5, ratio))
            order by part_rank
        )) as clamped,
        max(part_weight) filter (where part_rank = 1) as w1,
        max(ratio) filter (where part_rank = 1) as c1,
        max(part_weight) filter (where part_rank = 2) as w2,
        max(ratio) filter (where part_rank = 2) as c2
    from parts
    group by all
)

select
    g.period_end,
    g.structure_code,
    g.level,
    g.node_code as kpi_code,
    g.kind as node_kind,
    g.parent_code,
    g.quantity_code,
    g.period_basis,
    1 as polarity,
    g.cap_high,
    case
        when p.n_ratios < p.n_parts then null
        when t.composite_rule = 'weighted_clamped_ratio' then p.clamped
        when t.composite_rule = 'max_of_swapped_weights'
            then greatest(p.w1 * p.c1 + p.w2 * p.c2, p.w2 * p.c1 + p.w1 * p.c2)
    end as actual_value,
    null::double as numerator,
    null::double as denominator,
    null::double as value_vs_budget,
    null::varchar as dq_note,
    1.0 as target_value
from {{ ref('int_kpi_grid') }} as g
inner join {{ ref('int_kpi_tree') }} as t on g.node_code = t.node_code
left join per_composite as p
    on g.period_end = p.period_end and g.structure_code = p.structure_code and g.node_code = p.composite_code
where g.kind = 'composite'
