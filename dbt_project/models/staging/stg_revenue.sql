-- Revenue rows (IEEP leaf items, inspection collections) of the current delivery of each month. Amounts are
-- positive as delivered: the sign of each item comes from the ieep_items seed downstream.
select
    r.structure_code,
    date_trunc('month', r.month)::date as month_start,
    r.item_code,
    r.amount_eur::decimal(18, 2) as amount_eur,
    r.delivery_id,
    r._file,
    r._row
from ({{ current_rows('revenue') }}) as r
