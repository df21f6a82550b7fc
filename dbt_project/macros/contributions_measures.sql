{#
    Which measure rows count, once (docs/decisions.md §8, §11). Each measure feeds the quantity of its node (seeds
    measure_codes.node_code -> kpi_nodes.quantity_code). A stock counts only in its own month and structure,
    and only the latest period end of the month should a system deliver more than one (is_month_value); a flow
    counts in every ancestor, year to date. int_kpi_actuals_measures and int_contrib_measures both read this.
#}
{% macro measure_facts() %}
    select
        m.*,
        n.quantity_code,
        mc.stock_or_flow,
        mc.unit,
        mc.stock_or_flow = 'stock' and row_number() over (
            partition by m.month_start, m.structure_code, n.quantity_code, mc.stock_or_flow
            order by m.period_end desc
        ) = 1 as is_month_value
    from {{ ref('stg_measures') }} as m
    inner join {{ ref('measure_codes') }} as mc on m.measure_code = mc.measure_code
    inner join {{ ref('kpi_nodes') }} as n on mc.node_code = n.node_code
{% endmacro %}
