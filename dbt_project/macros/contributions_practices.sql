{#
    What one practice state is, once: the flags and durations every practice-based count is made of. The
    practice cube (int_practice_events) sums them into cells; int_contrib_practices turns the same columns into
    one contribution line per practice and KPI for `piramide trace`. Both read this macro, so a practice can
    never count in an aggregate and be missing from its trace, or the other way round.

    `states` is any relation with the columns of stg_practices (the cube also passes replaced states with a
    weight `w`, which p.* carries through). Both structures and the product must be known: the loader
    quarantines unknown codes, and this keeps every count closed over the seeds.
#}
{% macro practice_facts(states) %}
    select
        p.*,
        c.standard_days,
        c.coefficient_hours,
        c.backlog_group,
        c.in_total_backlog,
        c.in_produzione_lorda,
        c.in_productivity_scope,
        date_trunc('month', p.received_on)::date as received_month,
        date_trunc('month', p.defined_on)::date as defined_month,
        coalesce(p.outcome = 'cancelled', false) as is_cancelled,
        coalesce(p.outcome in ('granted', 'rejected', 'other'), false) as is_defined,
        coalesce(p.outcome = 'granted', false) as is_granted,
        p.defined_on - p.received_on as days_to_definition,
        coalesce(
            p.outcome in ('granted', 'rejected', 'other') and p.defined_on - p.received_on <= c.standard_days, false
        ) as is_within_standard,
        -- Continuity of income (docs/decisions.md §11): paid without a gap when defined within the parameter's days of
        -- the later of entitlement and receipt.
        coalesce(
            p.outcome = 'granted'
            and p.defined_on - greatest(coalesce(p.entitlement_on, p.received_on), p.received_on) <= (
                select max(kp.value) filter (where kp.parameter = 'continuity_days')
                from {{ ref('kpi_parameters') }} as kp
            ),
            false
        ) as is_granted_on_time,
        -- Sussidiarieta: the producer's regional entity differs from the owner's; central producers have none.
        coalesce(
            c.in_produzione_lorda
            and coalesce(prod.regional_entity_code, prod.structure_code) <> own.regional_entity_code,
            false
        ) as is_sussidiarieta
    from {{ states }} as p
    inner join {{ ref('product_catalogue') }} as c on p.product_code = c.product_code
    inner join {{ ref('structures') }} as own on p.structure_code = own.structure_code
    inner join {{ ref('structures') }} as prod on p.producing_structure_code = prod.structure_code
{% endmacro %}
