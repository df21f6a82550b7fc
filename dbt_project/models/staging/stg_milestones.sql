-- Project milestone reports of the current delivery of each month.
select
    m.project_id,
    m.as_of::date as as_of,
    m.completion::double as completion,
    m.evidence,
    m.delivery_id,
    m._file,
    m._row
from {{ source('raw', 'milestones') }} as m
inner join {{ source('audit', 'current_deliveries') }} as d
    on m.delivery_id = d.delivery_id
