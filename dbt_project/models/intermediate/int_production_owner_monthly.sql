-- Owner view, production structure x product x month: inflow, definitions and the backlog at month end.
-- The backlog is the running sum of arrivals minus exits (cancellations leave it too), over a dense
-- month spine so that every month-end has a value even without events.
with arrivals as (
    select
        structure_code,
        product_code,
        month_start,
        sum(pieces)::bigint as arrivals_all,
        sum(not_cancelled)::bigint as received_pieces
    from {{ ref('int_practice_events') }}
    where event = 'received'
    group by all
),

exits as (
    -- Cancellations leave the backlog too: every practice with a definition (or cancellation) date.
    select
        structure_code,
        product_code,
        month_start,
        sum(pieces)::bigint as exits_all,
        sum(defined)::bigint as defined_pieces
    from {{ ref('int_practice_events') }}
    where event = 'defined'
    group by all
),

bounds as (
    select
        (select min(month_start) from arrivals) as first_month,
        (select max(month_start) from {{ ref('int_month_ends') }}) as last_month
),

months as (
    select unnest(generate_series(first_month, last_month, interval 1 month))::date as month_start
    from bounds
),

cells as (
    select distinct
        structure_code,
        product_code
    from arrivals
),

spine as (
    select
        cells.structure_code,
        cells.product_code,
        months.month_start
    from cells cross join months
),

flows as (
    select
        spine.structure_code,
        spine.product_code,
        spine.month_start,
        coalesce(a.received_pieces, 0) as received_pieces,
        coalesce(e.defined_pieces, 0) as defined_pieces,
        -- A stock: macros/month_windows.sql, shared with the trace.
        sum(coalesce(a.arrivals_all, 0) - coalesce(e.exits_all, 0)) over (
            {{ stock_frame('spine.structure_code, spine.product_code', 'spine.month_start') | indent(12) }}
        ) as backlog_pieces
    from spine
    left join arrivals as a
        on
            spine.structure_code = a.structure_code
            and spine.product_code = a.product_code
            and spine.month_start = a.month_start
    left join exits as e
        on
            spine.structure_code = e.structure_code
            and spine.product_code = e.product_code
            and spine.month_start = e.month_start
)

select
    f.structure_code,
    f.product_code,
    f.month_start,
    f.received_pieces,
    f.defined_pieces,
    f.backlog_pieces,
    f.received_pieces * c.coefficient_hours as received_points,
    f.defined_pieces * c.coefficient_hours as defined_points,
    f.backlog_pieces * c.coefficient_hours as backlog_points,
    c.backlog_group,
    c.in_total_backlog
from flows as f
inner join {{ ref('product_catalogue') }} as c on f.product_code = c.product_code
