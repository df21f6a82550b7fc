-- The practice cube: every practice-based count, aggregated once from the latest practice states to owner x
-- producer x product x event x month. Production, backlog, quality and the practice KPIs all read this
-- (tens of thousands of rows) instead of scanning the practice table (tens of millions) each.
-- Events: 'received' (month of receipt), 'defined' (month of definition or cancellation: the practice leaves
-- the backlog) and 'young_open' (a month end at which the practice is open and younger than its product's
-- standard days, KPI_SPEC 5.1).
with params as (
    select max(value) filter (where parameter = 'continuity_days') as continuity_days
    from {{ ref('kpi_parameters') }}
),

practices as (
    select
        p.structure_code,
        p.producing_structure_code,
        p.product_code,
        p.received_on,
        p.entitlement_on,
        p.defined_on,
        p.outcome,
        p.project_tag,
        p.review_flag,
        c.standard_days,
        coalesce(p.outcome = 'cancelled', false) as is_cancelled,
        coalesce(p.outcome in ('granted', 'rejected', 'other'), false) as is_defined
    from {{ ref('stg_practices') }} as p
    inner join {{ ref('product_catalogue') }} as c on p.product_code = c.product_code
    -- Both structures must be known (the loader quarantines unknown codes; this keeps the cube closed).
    inner join {{ ref('structures') }} as own on p.structure_code = own.structure_code
    inner join {{ ref('structures') }} as prod on p.producing_structure_code = prod.structure_code
),

received as (
    select
        structure_code,
        producing_structure_code,
        product_code,
        'received' as event,
        date_trunc('month', received_on)::date as month_start,
        count(*) as pieces,
        count(*) filter (where not is_cancelled) as not_cancelled,
        count(*) filter (where not is_cancelled and review_flag) as review
    from practices
    group by all
),

defined as (
    select
        structure_code,
        producing_structure_code,
        product_code,
        'defined' as event,
        date_trunc('month', defined_on)::date as month_start,
        count(*) as pieces,
        count(*) filter (where not is_cancelled) as not_cancelled,
        count(*) filter (where is_defined) as defined,
        count(*) filter (where outcome = 'granted') as granted,
        count(*) filter (where is_defined and review_flag) as review,
        count(*) filter (where is_defined and project_tag = 'A') as project_a,
        count(*) filter (where is_defined and project_tag = 'B') as project_b,
        count(*) filter (where is_defined and project_tag = 'C') as project_c,
        count(*) filter (where is_defined and defined_on - received_on <= standard_days) as within_standard,
        coalesce(sum(defined_on - received_on) filter (where is_defined), 0) as defined_days,
        coalesce(sum(defined_on - received_on) filter (where outcome = 'granted'), 0) as granted_days,
        -- Continuity of income (KPI_SPEC 6.2): paid without a gap when defined within the parameter's days of
        -- the later of entitlement and receipt.
        count(*) filter (
            where outcome = 'granted'
            and defined_on - greatest(coalesce(entitlement_on, received_on), received_on)
            <= (select params.continuity_days from params)
        ) as granted_on_time
    from practices
    where defined_on is not null
    group by all
),

open_by_day as (
    -- Practices that can be open at a month end, counted by day of receipt and month of definition first:
    -- whether one is open at a month end depends on nothing finer, and the month expansion below then works
    -- on these counts rather than on every practice.
    select
        structure_code,
        producing_structure_code,
        product_code,
        received_on,
        date_trunc('month', defined_on)::date as defined_month,
        standard_days,
        count(*) as pieces
    from practices
    -- Defined within the month of receipt: never open at a month end.
    where defined_on is null or defined_on > last_day(received_on)
    group by all
),

open_month_ends as (
    -- The months whose end falls within the product's standard days of receipt: at most a few per day.
    select
        structure_code,
        producing_structure_code,
        product_code,
        received_on,
        defined_month,
        standard_days,
        pieces,
        unnest(generate_series(
            date_trunc('month', received_on),
            date_trunc('month', received_on + standard_days - 1),
            interval 1 month
        ))::date as month_start
    from open_by_day
),

young_open as (
    select
        structure_code,
        producing_structure_code,
        product_code,
        'young_open' as event,
        month_start,
        sum(pieces) as pieces
    from open_month_ends
    where
        last_day(month_start) < received_on + standard_days
        -- Open at the month end: defined in a later month (defined_on > month end) or not yet.
        and (defined_month is null or defined_month > month_start)
        and month_start <= (select max(me.month_start) from {{ ref('int_month_ends') }} as me)
    group by all
),

events as (
    -- By name: each event kind carries only its own counts; the others are 0 below.
    select * from received
    union all by name
    select * from defined
    union all by name
    select * from young_open
)

select
    structure_code,
    producing_structure_code,
    product_code,
    event,
    month_start,
    coalesce(pieces, 0)::bigint as pieces,
    coalesce(not_cancelled, 0)::bigint as not_cancelled,
    coalesce(defined, 0)::bigint as defined,
    coalesce(granted, 0)::bigint as granted,
    coalesce(review, 0)::bigint as review,
    coalesce(project_a, 0)::bigint as project_a,
    coalesce(project_b, 0)::bigint as project_b,
    coalesce(project_c, 0)::bigint as project_c,
    coalesce(within_standard, 0)::bigint as within_standard,
    coalesce(defined_days, 0)::bigint as defined_days,
    coalesce(granted_days, 0)::bigint as granted_days,
    coalesce(granted_on_time, 0)::bigint as granted_on_time
from events
