select
    s.structure_code,
    date_trunc('month', s.month)::date as month_start,
    s.sub_area_code,
    s.role,
    s.headcount,
    s.smart_workers,
    s.presence_days,
    s.smart_working_days,
    s.working_days,
    s.presence_days / s.working_days as fte,
    s.delivery_id,
    s._file,
    s._row
from ({{ current_rows('staff') }}) as s
