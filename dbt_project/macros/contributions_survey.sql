{#
    Which survey responses count, once (docs/decisions.md §11 IMP_REPUTATION): at a month-end, the responses of the
    latest wave delivered by then (a response is delivered from the month of its first current file), so a
    response counts from its first delivery month until the month before a later wave first arrives.
    int_kpi_actuals_survey and int_contrib_survey both read this.
#}
{% macro survey_facts() %}
    select
        s.*,
        s.first_delivery_month as first_month,
        coalesce(
            (
                select min(later.first_delivery_month)
                from {{ ref('stg_survey') }} as later
                where later.wave > s.wave
            ) - interval 1 month,
            date '9999-12-01'
        )::date as last_month
    from {{ ref('stg_survey') }} as s
{% endmacro %}
