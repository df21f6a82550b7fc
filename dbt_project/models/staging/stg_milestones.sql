-- Project milestone reports of the current delivery of each month.
select
    m.project_id,
    m.as_of::date as as_of,
    m.completion::double as completion,
    m.evidence,
    m.delivery_id,
    m._file,
    m._row
from ({{ current_rows('milestones') }}) as m
