{#
    The month windows every practice and contact count is measured over, each defined once with the three
    forms it is used in: a window frame (the aggregate models cumulate month cells), a join predicate (an
    aggregate that joins month cells to month-ends) and the last month a single row counts in (the trace views,
    whose contract is in int_contrib_practices.sql: a line counts at every month-end whose month lies in
    [first_month, last_month]). An aggregate and its trace therefore cannot disagree on what "year to date",
    "the last 12 months" or "open at the month end" means.
#}
{% macro far_future_month() -%}
    date '9999-12-01'
{%- endmacro %}

{#- Year to date: an event counts from its month to the December of its year. -#}
{% macro ytd_frame(partition, month='month_start') -%}
    partition by {{ partition }}, year({{ month }})
    order by {{ month }}
    rows between unbounded preceding and current row
{%- endmacro %}

{% macro in_ytd(event_month, month) -%}
    year({{ event_month }}) = year({{ month }}) and {{ event_month }} <= {{ month }}
{%- endmacro %}

{% macro ytd_last_month(first_month) -%}
    (date_trunc('year', {{ first_month }}) + interval 11 month)::date
{%- endmacro %}

{#- The last `months` months: an event counts from its month for `months` months. -#}
{% macro rolling_frame(partition, months, month='month_start') -%}
    partition by {{ partition }}
    order by {{ month }}
    range between interval '{{ months - 1 }} months' preceding and current row
{%- endmacro %}

{% macro rolling_last_month(first_month, months) -%}
    ({{ first_month }} + interval {{ months - 1 }} month)::date
{%- endmacro %}

{#- A stock at the month end: +1 in the month it enters, -1 in the month it leaves, so it counts until the month
    before the one it leaves in (for ever while it has not left). -#}
{% macro stock_frame(partition, month='month_start') -%}
    partition by {{ partition }}
    order by {{ month }}
    rows between unbounded preceding and current row
{%- endmacro %}

{% macro stock_last_month(leave_month) -%}
    case when {{ leave_month }} is null then {{ far_future_month() }} else ({{ leave_month }} - interval 1 month)::date end
{%- endmacro %}
