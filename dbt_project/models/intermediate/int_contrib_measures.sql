-- One line per measure row that counts (contract: int_contrib_practices.sql): a stock at its own structure and
-- month only, a flow in every ancestor year to date. Which rows count: macros/contributions_measures.sql, the
-- very rows int_kpi_actuals_measures reads.
{{ config(materialized='view') }}
select
    quantity_code,
    'numerator' as side,
    structure_code,
    stock_or_flow = 'flow' as rolls_up,
    month_start as first_month,
    case
        when stock_or_flow = 'flow' then (date_trunc('year', month_start) + interval 11 month)::date
        else month_start
    end as last_month,
    value as contribution,
    unit,
    delivery_id,
    _file as file,
    _row as row,
    measure_code || '/' || structure_code || '/' || period_end as business_key,
    to_json({
        measure: measure_code, structure: structure_code, period_end: period_end, stock_or_flow: stock_or_flow,
        source: source
    })::varchar as attributes
from ({{ measure_facts() }}) as f
where is_month_value or stock_or_flow = 'flow'
