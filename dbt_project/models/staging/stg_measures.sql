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
from ({{ current_rows('measures') }}) as m
