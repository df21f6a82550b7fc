{#
    What one cost or revenue row contributes, once (docs/decisions.md §8 Finanza, §11). int_finance_monthly sums these
    columns; int_contrib_finance lists them row by row for `piramide trace`. A column is NULL where the row does
    not count in it.
#}
{% macro cost_facts() %}
    select
        c.*,
        c.amount_eur as total_costs,
        -- Cost classes of the contract: direct = direct_production + direct_other.
        case when c.cost_class in ('direct_production', 'direct_other') then c.amount_eur end as direct_costs,
        case when c.cost_class = 'direct_production' then c.amount_eur end as direct_prod_costs,
        -- IMP_LITIGATION is the cost nature LITIGATION.
        case when c.cost_nature = 'LITIGATION' then c.amount_eur end as litigation_costs
    from {{ ref('stg_costs') }} as c
{% endmacro %}


{% macro revenue_facts() %}
    -- Only leaf items count (a subtotal code in an extract would double count); signs from the seed.
    select
        r.*,
        i.section,
        i.effective_sign,
        case when i.section = 'contribution_revenue' then r.amount_eur * i.effective_sign end as ieep_entrate,
        case when i.section = 'benefits' then r.amount_eur * i.effective_sign end as ieep_prestazioni,
        case when i.section = 'inspection' then r.amount_eur end as inspection_collections
    from {{ ref('stg_revenue') }} as r
    inner join {{ ref('ieep_items') }} as i on r.item_code = i.item_code and i.is_leaf
{% endmacro %}
