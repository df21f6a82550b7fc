-- Reporting month-ends: from the month after the opening delivery of practices to the latest delivery.
with bounds as (
    select
        min(month) + interval 1 month as first_month,
        max(month) as last_month
    from {{ source('audit', 'current_deliveries') }}
    where family = 'practices'
),

months as (
    select unnest(generate_series(first_month, last_month, interval 1 month))::date as month_start
    from bounds
)

select
    month_start,
    last_day(month_start) as period_end,
    year(month_start) as year,
    month(month_start) as month_of_year
from months
