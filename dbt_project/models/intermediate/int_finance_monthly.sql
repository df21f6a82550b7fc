-- Additive finance quantities per structure x month and their year-to-date sums, the one place costs,
-- revenue and producer points meet (docs/decisions.md §6, §8). A structure's figure is its own rows plus its
-- descendants' (int_structure_ancestors): a regional office's own costs count in its region, central rows in
-- the nation only. Ratios are never taken here: the actuals models divide these sums. What each cost and
-- revenue row counts in is macros/contributions_finance.sql, shared with the trace.
-- DECISION (is_closing): year-end closing entries are booked in December and enter the year-to-date sums of
-- their booking month like any other row, so December's figures are the closed year's accounts and January
-- to November never see them (the year-to-date restarts every January).
-- A month whose costs or revenue file was not delivered keeps its row with the family's *_delivered flag
-- false, and later months count it in *_missing_months, so a gap is visible instead of silently zero.
with spine as (
    select unnest(generate_series(date_trunc('year', min(month_start)), max(month_start), interval 1 month))::date
        as month_start
    from {{ ref('int_month_ends') }}
),

costs as (
    select
        anc.ancestor_code as structure_code,
        c.month_start,
        count(*) as cost_rows,
        sum(c.amount_eur) as total_costs,
        coalesce(sum(c.direct_costs), 0) as direct_costs,
        coalesce(sum(c.direct_prod_costs), 0) as direct_prod_costs,
        coalesce(sum(c.litigation_costs), 0) as litigation_costs
    from ({{ cost_facts() }}) as c
    inner join {{ ref('int_structure_ancestors') }} as anc on c.structure_code = anc.structure_code
    group by all
),

revenue as (
    -- What each row counts in: macros/contributions_finance.sql, shared with the trace.
    select
        anc.ancestor_code as structure_code,
        r.month_start,
        count(*) as revenue_rows,
        coalesce(sum(r.ieep_entrate), 0) as ieep_entrate,
        coalesce(sum(r.ieep_prestazioni), 0) as ieep_prestazioni,
        coalesce(sum(r.inspection_collections), 0) as inspection_collections
    from ({{ revenue_facts() }}) as r
    inner join {{ ref('int_structure_ancestors') }} as anc on r.structure_code = anc.structure_code
    group by all
),

points as (
    select
        anc.ancestor_code as structure_code,
        p.month_start,
        sum(p.points_productivity_scope) as points_scope
    from {{ ref('int_production_producer_monthly') }} as p
    inner join {{ ref('int_structure_ancestors') }} as anc on p.structure_code = anc.structure_code
    group by all
),

delivered as (
    select
        month as month_start,
        bool_or(family = 'costs') as costs_delivered,
        bool_or(family = 'revenue') as revenue_delivered
    from {{ source('audit', 'current_deliveries') }}
    where family in ('costs', 'revenue')
    group by all
),

-- Every structure with any finance fact in a year gets every month of that year, so a month without rows
-- still carries its year-to-date.
grid as (
    select distinct
        f.structure_code,
        s.month_start
    from (
        select
            structure_code,
            month_start
        from costs
        union all
        select
            structure_code,
            month_start
        from revenue
        union all
        select
            structure_code,
            month_start
        from points
    ) as f
    inner join spine as s on year(f.month_start) = year(s.month_start)
),

monthly as (
    select
        g.structure_code,
        g.month_start,
        coalesce(d.costs_delivered, false) as costs_delivered,
        coalesce(d.revenue_delivered, false) as revenue_delivered,
        coalesce(c.cost_rows, 0) as cost_rows,
        coalesce(c.total_costs, 0) as total_costs,
        coalesce(c.direct_costs, 0) as direct_costs,
        coalesce(c.direct_prod_costs, 0) as direct_prod_costs,
        coalesce(c.litigation_costs, 0) as litigation_costs,
        coalesce(r.revenue_rows, 0) as revenue_rows,
        coalesce(r.ieep_entrate, 0) as ieep_entrate,
        coalesce(r.ieep_prestazioni, 0) as ieep_prestazioni,
        coalesce(r.inspection_collections, 0) as inspection_collections,
        coalesce(p.points_scope, 0) as points_scope
    from grid as g
    left join costs as c on g.structure_code = c.structure_code and g.month_start = c.month_start
    left join revenue as r on g.structure_code = r.structure_code and g.month_start = r.month_start
    left join points as p on g.structure_code = p.structure_code and g.month_start = p.month_start
    left join delivered as d on g.month_start = d.month_start
)

select
    structure_code,
    month_start,
    costs_delivered,
    revenue_delivered,
    {% for col in ['cost_rows', 'total_costs', 'direct_costs', 'direct_prod_costs', 'litigation_costs', 'revenue_rows',
                   'ieep_entrate', 'ieep_prestazioni', 'inspection_collections', 'points_scope'] %}
    sum({{ col }}) over ytd as ytd_{{ col }},
    {% endfor %}
    sum(case when costs_delivered then 0 else 1 end) over ytd as costs_missing_months,
    sum(case when revenue_delivered then 0 else 1 end) over ytd as revenue_missing_months
from monthly
window ytd as (
    partition by structure_code, year(month_start)
    order by month_start
    rows between unbounded preceding and current row
)
