-- The remaining practice-based quantities (docs/decisions.md §11): review-flagged and family-support claims
-- defined, improvement-project pieces, continuity of income and average time. Owner attribution.
with sets as (
    select
        kpi_code,
        product_code
    from {{ ref('kpi_product_set') }}
),

monthly as (
    -- Every count the leaves need, by owner x month of the event, from the practice cube.
    select
        e.structure_code,
        e.month_start,
        coalesce(sum(e.review) filter (where e.event = 'received' and s_rdc.product_code is not null), 0)
            as rdc_review_received,
        coalesce(sum(e.review) filter (where e.event = 'defined' and s_rdc.product_code is not null), 0)
            as rdc_review_defined,
        coalesce(sum(e.not_cancelled) filter (where e.event = 'received' and s_fam.product_code is not null), 0)
            as family_received,
        coalesce(sum(e.defined) filter (where e.event = 'defined' and s_fam.product_code is not null), 0)
            as family_defined,
        coalesce(sum(e.project_a) filter (where e.event = 'defined'), 0) as project_a,
        coalesce(sum(e.project_b) filter (where e.event = 'defined'), 0) as project_b,
        coalesce(sum(e.project_c) filter (where e.event = 'defined'), 0) as project_c,
        coalesce(sum(e.granted) filter (where e.event = 'defined' and s_con.product_code is not null), 0)
            as continuity_granted,
        coalesce(sum(e.granted_on_time) filter (where e.event = 'defined' and s_con.product_code is not null), 0)
            as continuity_on_time,
        coalesce(sum(e.granted) filter (where e.event = 'defined' and s_avg.product_code is not null), 0)
            as avg_time_granted,
        -- NULL, not 0, where nothing was granted: the mean time of no practice is undefined.
        sum(e.granted_days) filter (
            where e.event = 'defined' and e.granted > 0 and s_avg.product_code is not null
        ) as avg_time_days
    from {{ ref('int_practice_events') }} as e
    left join sets as s_rdc on s_rdc.kpi_code = 'G.1' and e.product_code = s_rdc.product_code
    left join sets as s_fam on s_fam.kpi_code = 'G.2' and e.product_code = s_fam.product_code
    left join sets as s_con on s_con.kpi_code = 'IMP_CONTINUITY' and e.product_code = s_con.product_code
    left join sets as s_avg on s_avg.kpi_code = 'IMP_AVG_TIME' and e.product_code = s_avg.product_code
    where e.event in ('received', 'defined')
    group by all
),

rolled as (
    select
        anc.ancestor_code as structure_code,
        m.month_start,
        {% set cols = ['rdc_review_received', 'rdc_review_defined', 'family_received', 'family_defined',
                       'project_a', 'project_b', 'project_c', 'continuity_granted', 'continuity_on_time',
                       'avg_time_granted', 'avg_time_days'] %}
        {% for c in cols %}
        sum(m.{{ c }}) as {{ c }}{{ "," if not loop.last }}
        {% endfor %}
    from monthly as m
    inner join {{ ref('int_structure_ancestors') }} as anc on m.structure_code = anc.structure_code
    group by all
),

ytd as (
    select
        r.structure_code,
        me.period_end,
        {% for c in cols %}
        sum(r.{{ c }}) as ytd_{{ c }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ ref('int_month_ends') }} as me
    inner join rolled as r
        -- Year to date: macros/month_windows.sql, shared with the trace.
        on {{ in_ytd('r.month_start', 'me.month_start') }}
    group by all
),

long as (
    select
        period_end,
        structure_code,
        'RDC_REVIEW_DEFINED_SHARE' as quantity_code,
        ytd_rdc_review_defined as numerator,
        ytd_rdc_review_received as denominator,
        100.0 * ytd_rdc_review_defined / nullif(ytd_rdc_review_received, 0) as actual_value
    from ytd
    union all
    select
        period_end,
        structure_code,
        'FAMILY_SUPPORT_DEFINED_SHARE' as quantity_code,
        ytd_family_defined as numerator,
        ytd_family_received as denominator,
        100.0 * ytd_family_defined / nullif(ytd_family_received, 0) as actual_value
    from ytd
    union all
    select
        period_end,
        structure_code,
        'IMPROVEMENT_PROJECTS.A' as quantity_code,
        ytd_project_a as numerator,
        null as denominator,
        ytd_project_a as actual_value
    from ytd
    union all
    select
        period_end,
        structure_code,
        'IMPROVEMENT_PROJECTS.B' as quantity_code,
        ytd_project_b as numerator,
        null as denominator,
        ytd_project_b as actual_value
    from ytd
    union all
    select
        period_end,
        structure_code,
        'IMPROVEMENT_PROJECTS.C' as quantity_code,
        ytd_project_c as numerator,
        null as denominator,
        ytd_project_c as actual_value
    from ytd
    union all
    select
        period_end,
        structure_code,
        'IMP_CONTINUITY' as quantity_code,
        ytd_continuity_on_time as numerator,
        ytd_continuity_granted as denominator,
        100.0 * ytd_continuity_on_time / nullif(ytd_continuity_granted, 0) as actual_value
    from ytd
    union all
    select
        period_end,
        structure_code,
        'IMP_AVG_TIME' as quantity_code,
        ytd_avg_time_days as numerator,
        ytd_avg_time_granted as denominator,
        ytd_avg_time_days / nullif(ytd_avg_time_granted, 0) as actual_value
    from ytd
)

select
    period_end,
    structure_code,
    quantity_code,
    numerator,
    denominator,
    actual_value,
    null::double as value_vs_budget,
    null::varchar as dq_note
from long
