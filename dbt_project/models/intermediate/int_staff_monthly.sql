-- Staff FTE per structure x month, split the way the efficiency KPIs need it (the splits of each row:
-- macros/contributions_staff.sql, shared with the trace).
select
    structure_code,
    month_start,
    sum(fte_production_scope) as fte_production_scope,
    sum(fte_production_structures_prod) as fte_production_structures_prod,
    sum(fte_production_structures_all) as fte_production_structures_all,
    sum(fte) as fte_all,
    sum(headcount) as headcount,
    sum(smart_workers) as smart_workers
from ({{ staff_facts() }}) as s
group by all
