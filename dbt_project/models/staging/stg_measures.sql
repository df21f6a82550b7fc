-- Measures computed by other systems, current delivery of each month.
select
    m.measure_code,
    m.structure_code,
    m.period_end::date as period_end,
    date_trunc('month', m.period_end)::date as month_start,
    m.value::double as value,
    m.source,
    m.delivery_id,
    m._file,
    m._row
from {{ source('raw', 'measures') }} as m
inner join {{ source('audit', 'current_deliveries') }} as d
    on m.delivery_id = d.delivery_id
