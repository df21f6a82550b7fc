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
-- Which contacts count in which part and how much (measures, parts, working days): written once in
-- macros/contributions_contacts.sql, which int_contrib_contacts lists contact by contact for `piramide trace`.
{%- set measures, parts = {}, [] %}
{%- do contact_measures(measures) %}
{%- do contact_parts(parts) %}
{%- set flows = measures.items() | rejectattr('1.until') | list %}
{%- set stocks = measures.items() | selectattr('1.until') | list %}
with channels as (
    select
        channel_code,
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

contacts as materialized (
    -- Which contacts count and how much: macros/contributions_contacts.sql, shared with the trace. Only the
    -- columns the measures read are materialised (the row's provenance is for the trace).
    select
        structure_code,
        channel_code,
        standard_working_days,
        opened_on,
        responded_on,
        response_working_days,
        closed_at_first_response,
        overdue_from
    from ({{ contact_facts() | indent(4) }}) as f
),

events as (
    -- The flows count in the month of their `from`; the open and overdue stocks are running sums of +1 when
    -- an interval [from, until) starts and -1 when it ends, so no contact is joined to month-ends.
    {%- for from_col in flows | map(attribute='1.from') | unique %}
    select
        structure_code,
        channel_code,
        date_trunc('month', {{ from_col }})::date as month_start,
        {%- for name, m in measures.items() %}
        {%- if not m.until and m['from'] == from_col %}
        {{ 'count(*)' if m.value == '1' else 'sum(' ~ m.value ~ ')' }}
        {%- if m.when != 'true' %} filter (where {{ m.when }}){% endif %} as {{ name }}
        {%- else %}
        0 as {{ name }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from contacts
    where {{ from_col }} is not null
    group by all
    union all
    {%- endfor %}
    {%- for name, m in stocks %}
    select
        structure_code,
        channel_code,
        date_trunc('month', {{ m['from'] }})::date as month_start,
        {%- for other, o in measures.items() %}
        {%- if other == name %}
        {{ 'count(*)' if o.value == '1' else 'sum(' ~ o.value ~ ')' }} as {{ other }}
        {%- else %}
        0 as {{ other }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from contacts
    where {{ contact_measure_rows(m) }}
    group by all
    union all
    select
        structure_code,
        channel_code,
        date_trunc('month', {{ m.until }})::date as month_start,
        {%- for other, o in measures.items() %}
        {%- if other == name %}
        -{{ 'count(*)' if o.value == '1' else 'sum(' ~ o.value ~ ')' }} as {{ other }}
        {%- else %}
        0 as {{ other }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from contacts
    where ({{ m.when }}) and {{ m['from'] }} < {{ m.until }}
    group by all
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rolled as (
    select
        anc.ancestor_code as structure_code,
        e.channel_code,
        e.month_start,
        {%- for name in measures %}
        sum(e.{{ name }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
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
    -- A flow is cumulated within its year, a stock over all months (macros/month_windows.sql).
    select
        s.structure_code,
        s.channel_code,
        s.month_start,
        {%- for name, m in measures.items() %}
        sum(coalesce(r.{{ name }}, 0)) over (
            {%- set cell = 's.structure_code, s.channel_code' %}
            {{ (stock_frame(cell, 's.month_start') if m.until else ytd_frame(cell, 's.month_start')) | indent(12) }}
        ) as cum_{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from spine as s
    left join rolled as r
        on s.structure_code = r.structure_code and s.channel_code = r.channel_code and s.month_start = r.month_start
),

elementary as (
    {%- for p in parts %}
    {%- set pool = '' if p.per_channel else 'sum' %}
    select
        structure_code,
        month_start,
        {{ 'channel_code' if p.per_channel else 'null' }} as channel_code,
        '{{ p.component }}' as component,
        {{ pool }}(cum_{{ p.numerator }}) as numerator,
        {{ pool }}(cum_{{ p.denominator }}) as denominator,
        {{ p.scale ~ ' * ' if p.scale }}{{ pool }}(cum_{{ p.numerator }}) / nullif({{ pool }}(cum_{{ p.denominator }}), 0)
            as elementary_value
    from cumulated
    {%- if not p.per_channel %}
    group by structure_code, month_start
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
