-- The practice cube: every practice-based count, aggregated once from the latest practice states to owner x
-- producer x product x event x month. Production, backlog, quality and the practice KPIs all read this
-- (tens of thousands of rows) instead of scanning the practice table (tens of millions) each.
-- Events: 'received' (month of receipt), 'defined' (month of definition or cancellation: the practice leaves
-- the backlog) and 'young_open' (a month end at which the practice is open and younger than its product's
-- standard days, docs/decisions.md §9).
-- Incremental by difference (macros/practice_changes.sql): a build counts the new states of the practices
-- that changed since the last build with weight +1 and the states they replaced with weight -1, and adds the
-- result to the cells it touches. Every count is a sum of weights, so a month's new delivery costs the size of
-- that delivery; a cell whose pieces fall to 0 is deleted (a full build has no such cell).
{%- set cell_key = ['structure_code', 'producing_structure_code', 'product_code', 'event', 'month_start'] %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=cell_key,
    on_schema_change='fail',
    pre_hook="{% if is_incremental() and practice_cube_reset() | trim == 'true' %}delete from {{ this }}{% endif %}",
    post_hook=["delete from {{ this }} where pieces = 0", "{{ practice_cube_consumed() }}"]
) }}
{%- set by_difference = is_incremental() and practice_cube_reset() | trim == 'false' %}

with states as (
    {%- if by_difference %}
    {%- set changes = side_table(ref('stg_practices'), '__changes') %}
    select
        s.*,
        1 as w
    from {{ ref('stg_practices') }} as s
    where s.practice_id in (select c.practice_id from {{ changes }} as c)
    union all by name
    select
        c.* exclude (has_prior, is_reset),
        -1 as w
    from {{ changes }} as c
    where c.has_prior
    {%- else %}
    select
        s.*,
        1 as w
    from {{ ref('stg_practices') }} as s
    {%- endif %}
),

practices as (
    -- The flags each state counts with: macros/contributions_practices.sql, shared with the trace.
    {{ practice_facts('states') | indent(4) }}
),

received as (
    select
        structure_code,
        producing_structure_code,
        product_code,
        'received' as event,
        date_trunc('month', received_on)::date as month_start,
        sum(w) as pieces,
        sum(w) filter (where not is_cancelled) as not_cancelled,
        sum(w) filter (where not is_cancelled and review_flag) as review
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
        sum(w) as pieces,
        sum(w) filter (where not is_cancelled) as not_cancelled,
        sum(w) filter (where is_defined) as defined,
        sum(w) filter (where is_granted) as granted,
        sum(w) filter (where is_defined and review_flag) as review,
        sum(w) filter (where is_defined and project_tag = 'A') as project_a,
        sum(w) filter (where is_defined and project_tag = 'B') as project_b,
        sum(w) filter (where is_defined and project_tag = 'C') as project_c,
        sum(w) filter (where is_within_standard) as within_standard,
        coalesce(sum(w * days_to_definition) filter (where is_defined), 0) as defined_days,
        coalesce(sum(w * days_to_definition) filter (where is_granted), 0) as granted_days,
        sum(w) filter (where is_granted_on_time) as granted_on_time
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
        sum(w) as pieces
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
    group by all
),

events as (
    -- By name: each event kind carries only its own counts; the others are 0 below.
    select * from received
    union all by name
    select * from defined
    union all by name
    select * from young_open
),

{%- set measures = ['pieces', 'not_cancelled', 'defined', 'granted', 'review', 'project_a', 'project_b',
                     'project_c', 'within_standard', 'defined_days', 'granted_days', 'granted_on_time'] %}

cells as (
    select
        {{ cell_key | join(',\n        ') }},
        {%- for m in measures %}
        coalesce({{ m }}, 0)::bigint as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from events
)
{%- if by_difference %},

touched_cells as (
    -- The stored cells the changes fall in, plus the changes themselves: summed, the cells' new values.
    select t.*
    from {{ this }} as t
    semi join cells using ({{ cell_key | join(', ') }})
    union all by name
    select * from cells
)

select
    {{ cell_key | join(',\n    ') }},
    {%- for m in measures %}
    sum({{ m }})::bigint as {{ m }}{{ ',' if not loop.last }}
    {%- endfor %}
from touched_cells
group by all
{%- else %}

select * from cells
{%- endif %}
