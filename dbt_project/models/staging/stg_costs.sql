-- Cost rows of the current delivery of each month (a restatement supersedes the month's earlier file).
select
    c.structure_code,
    date_trunc('month', c.month)::date as month_start,
    c.cost_nature,
    c.cost_class,
    c.amount_eur::decimal(18, 2) as amount_eur,
    c.is_closing,
    c.delivery_id,
    c._file,
    c._row
from ({{ current_rows('costs') }}) as c
