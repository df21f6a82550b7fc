-- Annual targets in plan units, per node x structure x year: the seeded ones (kpi_targets) and those the plan
-- states as a rule on an earlier year (seed target_rules, objective tables L2107-2740): base x factor +
-- increment, where the base is the rule's baseline, the same structure's previous-year target, its previous
-- year-end actual, or the larger of those two. A rule whose base is not known yet (no year-end actual) gives no
-- target, and neither does a rule on it. Extensive (ytd_flow) actuals are divided by the sample's scale so that
-- the base is in plan units like the targets (int_kpi_targets scales them back). base_value is the base the
-- rule was applied to, in plan units, so that a reader can redo the arithmetic.
with recursive rules as (
    select
        r.node_code,
        r.structure_code,
        r.year,
        r.base,
        r.baseline_value,
        r.factor,
        coalesce(r.increment, 0) as increment,
        r.plan_line,
        n.quantity_code,
        case when n.period_basis = 'ytd_flow' and n.kind <> 'composite' then {{ target_scale() }} else 1 end
            as actual_scale
    from {{ ref('target_rules') }} as r
    inner join {{ ref('kpi_nodes') }} as n on r.node_code = n.node_code
),

year_end as (
    select
        r.node_code,
        r.structure_code,
        r.year,
        a.actual_value / r.actual_scale as previous_actual
    from rules as r
    inner join {{ ref('int_kpi_actuals') }} as a
        on
            r.quantity_code = a.quantity_code
            and r.structure_code = a.structure_code
            and a.period_end = make_date(r.year - 1, 12, 31)
),

targets (node_code, structure_code, year, target_value, plan_line, target_source, base_value) as (
    select
        node_code,
        structure_code,
        year,
        target_value,
        plan_line::varchar,
        'seed' as target_source,
        null::double as base_value
    from {{ ref('kpi_targets') }}
    union all
    select
        r.node_code,
        r.structure_code,
        r.year,
        case r.base when 'baseline' then r.baseline_value else y.previous_actual end * r.factor + r.increment,
        r.plan_line::varchar,
        'rule: ' || r.factor::varchar || ' x '
        || case r.base
            when 'baseline' then 'baseline ' || r.baseline_value::varchar
            else (r.year - 1)::varchar || ' year-end actual'
        end
        || case when r.increment <> 0 then ' + ' || r.increment::varchar else '' end,
        case r.base when 'baseline' then r.baseline_value else y.previous_actual end
    from rules as r
    left join year_end as y on r.node_code = y.node_code and r.structure_code = y.structure_code and r.year = y.year
    where r.base in ('baseline', 'prev_actual')
    union all
    select
        r.node_code,
        r.structure_code,
        r.year,
        case
            when r.base = 'prev_target' then t.target_value
            when y.previous_actual is not null then greatest(t.target_value, y.previous_actual)
        end * r.factor + r.increment,
        r.plan_line::varchar,
        'rule: ' || r.factor::varchar || ' x '
        || case r.base
            when 'prev_target' then (r.year - 1)::varchar || ' target'
            else 'max(' || (r.year - 1)::varchar || ' target, ' || (r.year - 1)::varchar || ' year-end actual)'
        end
        || case when r.increment <> 0 then ' + ' || r.increment::varchar else '' end,
        case
            when r.base = 'prev_target' then t.target_value
            when y.previous_actual is not null then greatest(t.target_value, y.previous_actual)
        end
    from targets as t
    inner join rules as r
        on t.node_code = r.node_code and t.structure_code = r.structure_code and t.year = r.year - 1
    left join year_end as y on r.node_code = y.node_code and r.structure_code = y.structure_code and r.year = y.year
    where r.base in ('prev_target', 'max_prev_target_actual') and t.target_value is not null
)

select
    node_code,
    structure_code,
    year,
    target_value,
    plan_line,
    target_source,
    base_value
from targets
where target_value is not null
