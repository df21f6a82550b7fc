-- Customer Care index (docs/decisions.md §10) at every month-end and structure level, in the long actuals schema.
-- Thirteen elementary indicators: per channel the % answered within the standard (ytd), the mean working
-- days to first response (ytd) and the % of unanswered contacts older than the standard at the month end
-- (stock); plus the % of contacts closed at their first response over all channels (ytd). Counts are rolled
-- up the structure tree first and the values computed from the pooled counts (never a mean of ratios).
-- An elementary part keeps its value in its own unit (days or %, dim_kpi) as actual_value, with the counts
-- behind it as numerator / denominator; beside it, actual_index is its index against the same structure a
-- year before and budget_index against the median of its cost cluster a year before (cluster_median_reference;
-- the nation takes every clustered structure). The channel and Customer Care indices are the only place
-- indices are averaged, by their seed weights, renormalised over the components that have an index; their
-- actual_value is that index, value_vs_budget the budget one.
-- Working days between two dates = working days in (start, end] (seed holidays_it, Monday-Friday), so a
-- contact answered on its opening day took 0 days and one opened on Saturday and answered on Monday took 1.
with channels as (
    select
        channel_code,
        standard_working_days,
        weight as channel_weight
    from {{ ref('channel_standards') }}
),

components as (
    select
        component,
        weight,
        polarity,
        parent_component
    from {{ ref('customer_care_weights') }}
),

bounds as (
    select
        min(c.opened_at)::date as first_day,
        greatest(
            max(coalesce(c.first_response_at, c.opened_at))::date,
            (select max(me.period_end) from {{ ref('int_month_ends') }} as me)
        ) as last_day
    from {{ ref('stg_contacts') }} as c
),

calendar as (
    -- Running count of working days: the working days between two dates are a difference of two numbers.
    select
        d.calendar_day,
        isodow(d.calendar_day) <= 5 and h.holiday_on is null as is_working_day,
        sum(case when isodow(d.calendar_day) <= 5 and h.holiday_on is null then 1 else 0 end) over (
            order by d.calendar_day
        ) as wd_number
    from (
        select unnest(generate_series(first_day, last_day, interval 1 day))::date as calendar_day
        from bounds
    ) as d
    left join {{ ref('holidays_it') }} as h on d.calendar_day = h.holiday_on
),

contacts as materialized (
    select
        c.structure_code,
        c.channel_code,
        ch.standard_working_days,
        c.opened_at::date as opened_on,
        c.first_response_at::date as responded_on,
        cr.wd_number - co.wd_number as response_working_days,
        coalesce(c.closed_at = c.first_response_at, false) as closed_at_first_response,
        -- From this day on an unanswered contact is beyond the standard: its (standard + 1)-th working day.
        od.calendar_day as overdue_from
    from {{ ref('stg_contacts') }} as c
    inner join channels as ch on c.channel_code = ch.channel_code
    inner join calendar as co on c.opened_at::date = co.calendar_day
    left join calendar as cr on c.first_response_at::date = cr.calendar_day
    left join calendar as od
        on od.is_working_day and od.wd_number = co.wd_number + ch.standard_working_days + 1
),

events as (
    -- Responses feed the year-to-date flows; the open and overdue stocks are running sums of +1 when an
    -- interval [start, first response) starts and -1 when it ends, so no contact is joined to month-ends.
    select
        structure_code,
        channel_code,
        date_trunc('month', responded_on)::date as month_start,
        count(*) as responded,
        count(*) filter (where response_working_days <= standard_working_days) as within_standard,
        sum(response_working_days) as response_working_days,
        count(*) filter (where closed_at_first_response) as closed_at_first_response,
        0 as open_delta,
        0 as overdue_delta
    from contacts
    where responded_on is not null
    group by all
    union all
    select
        structure_code,
        channel_code,
        date_trunc('month', opened_on)::date as month_start,
        0 as responded,
        0 as within_standard,
        0 as response_working_days,
        0 as closed_at_first_response,
        count(*) as open_delta,
        0 as overdue_delta
    from contacts
    where responded_on is null or opened_on < responded_on
    group by all
    union all
    select
        structure_code,
        channel_code,
        date_trunc('month', responded_on)::date as month_start,
        0 as responded,
        0 as within_standard,
        0 as response_working_days,
        0 as closed_at_first_response,
        -count(*) as open_delta,
        0 as overdue_delta
    from contacts
    where opened_on < responded_on
    group by all
    union all
    select
        structure_code,
        channel_code,
        date_trunc('month', overdue_from)::date as month_start,
        0 as responded,
        0 as within_standard,
        0 as response_working_days,
        0 as closed_at_first_response,
        0 as open_delta,
        count(*) as overdue_delta
    from contacts
    where overdue_from is not null and (responded_on is null or overdue_from < responded_on)
    group by all
    union all
    select
        structure_code,
        channel_code,
        date_trunc('month', responded_on)::date as month_start,
        0 as responded,
        0 as within_standard,
        0 as response_working_days,
        0 as closed_at_first_response,
        0 as open_delta,
        -count(*) as overdue_delta
    from contacts
    where overdue_from < responded_on
    group by all
),

rolled as (
    select
        anc.ancestor_code as structure_code,
        e.channel_code,
        e.month_start,
        sum(e.responded) as responded,
        sum(e.within_standard) as within_standard,
        sum(e.response_working_days) as response_working_days,
        sum(e.closed_at_first_response) as closed_at_first_response,
        sum(e.open_delta) as open_delta,
        sum(e.overdue_delta) as overdue_delta
    from events as e
    inner join {{ ref('int_structure_ancestors') }} as anc on e.structure_code = anc.structure_code
    group by all
),

months as (
    -- Every month with data, also before the reporting window: the previous year is the reference.
    select unnest(generate_series(
        (select min(month_start) from rolled),
        (select max(month_start) from {{ ref('int_month_ends') }}),
        interval 1 month
    ))::date as month_start
),

spine as (
    select
        cells.structure_code,
        cells.channel_code,
        months.month_start
    from (
        select distinct
            structure_code,
            channel_code
        from rolled
    ) as cells
    cross join months
),

cumulated as (
    select
        s.structure_code,
        s.channel_code,
        s.month_start,
        {% for c in ['responded', 'within_standard', 'response_working_days', 'closed_at_first_response'] %}
        sum(coalesce(r.{{ c }}, 0)) over (
            partition by s.structure_code, s.channel_code, year(s.month_start)
            order by s.month_start
            rows between unbounded preceding and current row
        ) as ytd_{{ c }},
        {% endfor %}
        sum(coalesce(r.open_delta, 0)) over (
            partition by s.structure_code, s.channel_code
            order by s.month_start
            rows between unbounded preceding and current row
        ) as open_stock,
        sum(coalesce(r.overdue_delta, 0)) over (
            partition by s.structure_code, s.channel_code
            order by s.month_start
            rows between unbounded preceding and current row
        ) as overdue_stock
    from spine as s
    left join rolled as r
        on s.structure_code = r.structure_code and s.channel_code = r.channel_code and s.month_start = r.month_start
),

elementary as (
    select
        structure_code,
        month_start,
        channel_code,
        'WITHIN_STANDARD' as component,
        ytd_within_standard as numerator,
        ytd_responded as denominator,
        100.0 * ytd_within_standard / nullif(ytd_responded, 0) as elementary_value
    from cumulated
    union all
    select
        structure_code,
        month_start,
        channel_code,
        'FIRST_RESPONSE_DAYS' as component,
        ytd_response_working_days as numerator,
        ytd_responded as denominator,
        ytd_response_working_days / nullif(ytd_responded, 0) as elementary_value
    from cumulated
    union all
    select
        structure_code,
        month_start,
        channel_code,
        'OPEN_OVER_STANDARD' as component,
        overdue_stock as numerator,
        open_stock as denominator,
        100.0 * overdue_stock / nullif(open_stock, 0) as elementary_value
    from cumulated
    union all
    select
        structure_code,
        month_start,
        null as channel_code,
        'FIRST_RESPONSE' as component,
        sum(ytd_closed_at_first_response) as numerator,
        sum(ytd_responded) as denominator,
        100.0 * sum(ytd_closed_at_first_response) / nullif(sum(ytd_responded), 0) as elementary_value
    from cumulated
    group by structure_code, month_start
),

with_cluster as (
    {{ with_cost_cluster('elementary') }}
),

budget as (
    {{ cluster_median_reference('with_cluster', ['channel_code', 'component'], 'month_start', 'elementary_value') }}
),

indexed as (
    select
        c.structure_code,
        c.month_start,
        c.channel_code,
        c.component,
        c.numerator,
        c.denominator,
        c.elementary_value,
        {{ index_vs_reference('c.elementary_value', 'prev.elementary_value', 'w.polarity') }} as idx_prev,
        {{ index_vs_reference('c.elementary_value', 'b.budget_value', 'w.polarity') }} as idx_budget,
        case
            when c.elementary_value is null then 'no_data'
            when prev.elementary_value is null then 'no_reference'
            when abs(prev.elementary_value) < 1e-9 then 'zero_reference'
        end as dq_note
    from with_cluster as c
    inner join components as w on c.component = w.component
    inner join {{ ref('int_month_ends') }} as me on c.month_start = me.month_start
    left join with_cluster as prev
        on
            c.structure_code = prev.structure_code
            and c.channel_code is not distinct from prev.channel_code
            and c.component = prev.component
            and prev.month_start = c.month_start - interval 1 year
    left join budget as b
        on
            c.cost_cluster is not distinct from b.cost_cluster
            and c.channel_code is not distinct from b.channel_code
            and c.component = b.component
            and b.month_start = c.month_start - interval 1 year
),

channel_index as (
    select
        i.structure_code,
        i.month_start,
        i.channel_code,
        sum(w.weight * i.idx_prev) filter (where i.idx_prev is not null) as weighted_prev,
        sum(w.weight) filter (where i.idx_prev is not null) as weight_prev,
        sum(w.weight * i.idx_budget) filter (where i.idx_budget is not null)
        / nullif(sum(w.weight) filter (where i.idx_budget is not null), 0) as idx_budget,
        count(i.idx_prev) as n_indexed,
        count(*) as n_components
    from indexed as i
    inner join components as w on i.component = w.component and w.parent_component = 'CHANNEL'
    group by all
),

channels_mean as (
    select
        ci.structure_code,
        ci.month_start,
        sum(ch.channel_weight * ci.weighted_prev / ci.weight_prev) filter (where ci.weight_prev > 0)
        / nullif(sum(ch.channel_weight) filter (where ci.weight_prev > 0), 0) as idx_prev,
        sum(ch.channel_weight * ci.idx_budget) filter (where ci.idx_budget is not null)
        / nullif(sum(ch.channel_weight) filter (where ci.idx_budget is not null), 0) as idx_budget,
        count(*) filter (where ci.weight_prev > 0) as n_indexed,
        bool_or(ci.n_indexed < ci.n_components) as has_partial_channel
    from channel_index as ci
    inner join channels as ch on ci.channel_code = ch.channel_code
    group by all
),

customer_care_parts as (
    select
        m.structure_code,
        m.month_start,
        w.component,
        w.weight,
        case w.component when 'CHANNELS_MEAN' then m.idx_prev else fr.idx_prev end as idx_prev,
        case w.component when 'CHANNELS_MEAN' then m.idx_budget else fr.idx_budget end as idx_budget,
        case
            when w.component = 'CHANNELS_MEAN'
                then m.has_partial_channel or m.n_indexed < (select count(*) from channels)
        end as is_partial
    from channels_mean as m
    cross join components as w
    left join indexed as fr
        on m.structure_code = fr.structure_code and m.month_start = fr.month_start and fr.component = 'FIRST_RESPONSE'
    where w.parent_component = 'CUSTOMER_CARE'
),

customer_care as (
    select
        structure_code,
        month_start,
        sum(weight * idx_prev) filter (where idx_prev is not null) as weighted_prev,
        sum(weight) filter (where idx_prev is not null) as weight_prev,
        sum(weight * idx_budget) filter (where idx_budget is not null)
        / nullif(sum(weight) filter (where idx_budget is not null), 0) as idx_budget,
        bool_or(is_partial) or count(idx_prev) < count(*) as is_partial
    from customer_care_parts
    group by all
),

long as (
    select
        structure_code,
        month_start,
        'CUSTOMER_CARE.' || coalesce(channel_code || '.', '') || component as quantity_code,
        numerator,
        denominator,
        elementary_value as actual_value,
        null::double as value_vs_budget,
        idx_prev as actual_index,
        idx_budget as budget_index,
        dq_note
    from indexed
    union all
    select
        structure_code,
        month_start,
        'CUSTOMER_CARE.' || channel_code as quantity_code,
        weighted_prev as numerator,
        weight_prev as denominator,
        weighted_prev / nullif(weight_prev, 0) as actual_value,
        idx_budget as value_vs_budget,
        weighted_prev / nullif(weight_prev, 0) as actual_index,
        idx_budget as budget_index,
        case when n_indexed < n_components then 'partial' end as dq_note
    from channel_index
    union all
    select
        structure_code,
        month_start,
        'CUSTOMER_CARE' as quantity_code,
        weighted_prev as numerator,
        weight_prev as denominator,
        weighted_prev / nullif(weight_prev, 0) as actual_value,
        idx_budget as value_vs_budget,
        weighted_prev / nullif(weight_prev, 0) as actual_index,
        idx_budget as budget_index,
        case when is_partial then 'partial' end as dq_note
    from customer_care
)

select
    me.period_end,
    long.structure_code,
    long.quantity_code,
    long.numerator,
    long.denominator,
    long.actual_value,
    long.value_vs_budget,
    long.actual_index,
    long.budget_index,
    long.dq_note
from long
inner join {{ ref('int_month_ends') }} as me on long.month_start = me.month_start
