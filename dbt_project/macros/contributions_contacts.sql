{#
    Which contacts count in each Customer Care elementary part and how much, once (docs/decisions.md §10).
    int_kpi_actuals_contacts sums these measures into month cells and cumulates them; int_contrib_contacts
    lists them contact by contact for `piramide trace`. Both read the three macros below, so a contact can never
    count in an aggregate and be missing from its trace, or the other way round.

    contact_facts: one row per contact of stg_contacts with a known channel, with the dates and durations the
    measures are made of. Working days between two dates = working days in (start, end] (seed holidays_it,
    Monday-Friday), so a contact answered on its opening day took 0 days and one opened on Saturday and answered
    on Monday took 1.
#}
{% macro contact_facts() %}
    with bounds as (
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
    )

    select
        c.contact_id,
        c.structure_code,
        c.channel_code,
        ch.standard_working_days,
        c.opened_at::date as opened_on,
        c.first_response_at::date as responded_on,
        c.closed_at::date as closed_on,
        c.delivery_id,
        c._file,
        c._row,
        cr.wd_number - co.wd_number as response_working_days,
        coalesce(c.closed_at = c.first_response_at, false) as closed_at_first_response,
        -- From this day on an unanswered contact is beyond the standard: its (standard + 1)-th working day.
        od.calendar_day as overdue_from
    from {{ ref('stg_contacts') }} as c
    inner join {{ ref('channel_standards') }} as ch on c.channel_code = ch.channel_code
    inner join calendar as co on c.opened_at::date = co.calendar_day
    left join calendar as cr on c.first_response_at::date = cr.calendar_day
    left join calendar as od
        on od.is_working_day and od.wd_number = co.wd_number + ch.standard_working_days + 1
{% endmacro %}

{#
    The measures a contact adds to, put into the dict `into` (a dict filled in place rather than a macro's return
    value, so that the linter's templater renders the callers too), each a `value` counted while `when` holds:
    - a flow (no `until`) counts in the months of the year of `from`, from the month of `from` on (year to date);
    - a stock counts from the month of `from` until the month before `until` (or for ever while `until` is NULL),
      and only when `from` < `until`: a contact answered within the day it became open was never open at a
      month end. The aggregate adds +value at the month of `from` and -value at the month of `until`.
    The trace views write these windows with macros/month_windows.sql.
#}
{% macro contact_measures(into) %}
    {% do into.update({
        'responded': {'from': 'responded_on', 'when': 'true', 'value': '1', 'unit': 'contacts'},
        'within_standard': {
            'from': 'responded_on', 'when': 'response_working_days <= standard_working_days', 'value': '1',
            'unit': 'contacts'
        },
        'response_working_days': {
            'from': 'responded_on', 'when': 'true', 'value': 'response_working_days', 'unit': 'working days'
        },
        'closed_at_first_response': {
            'from': 'responded_on', 'when': 'closed_at_first_response', 'value': '1', 'unit': 'contacts'
        },
        'open_stock': {'from': 'opened_on', 'until': 'responded_on', 'when': 'true', 'value': '1', 'unit': 'contacts'},
        'overdue_stock': {
            'from': 'overdue_from', 'until': 'responded_on', 'when': 'true', 'value': '1', 'unit': 'contacts'
        },
    }) %}
{% endmacro %}

{#
    The elementary parts: numerator and denominator are measures, pooled per channel or over every channel;
    `scale` turns the ratio into the part's unit (100 for a percentage). Appended to the list `into`.
#}
{% macro contact_parts(into) %}
    {% do into.extend([
        {'component': 'WITHIN_STANDARD', 'per_channel': true, 'numerator': 'within_standard',
         'denominator': 'responded', 'scale': '100.0'},
        {'component': 'FIRST_RESPONSE_DAYS', 'per_channel': true, 'numerator': 'response_working_days',
         'denominator': 'responded', 'scale': none},
        {'component': 'OPEN_OVER_STANDARD', 'per_channel': true, 'numerator': 'overdue_stock', 'denominator': 'open_stock',
         'scale': '100.0'},
        {'component': 'FIRST_RESPONSE', 'per_channel': false, 'numerator': 'closed_at_first_response',
         'denominator': 'responded', 'scale': '100.0'},
    ]) %}
{% endmacro %}

{#- The rows a measure counts on: `from` known, `when`, and for a stock a non-empty interval. -#}
{% macro contact_measure_rows(m) -%}
    {{ m['from'] }} is not null and ({{ m['when'] }})
    {%- if m.get('until') %} and ({{ m['until'] }} is null or {{ m['from'] }} < {{ m['until'] }}){% endif %}
{%- endmacro %}
