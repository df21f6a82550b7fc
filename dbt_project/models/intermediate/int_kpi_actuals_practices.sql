-- The remaining practice-based quantities (KPI_SPEC 6.1-6.2): review-flagged and family-support claims
-- defined, improvement-project pieces, continuity of income and average time. Owner attribution.
with params as (
    select max(value) filter (where parameter = 'continuity_days') as continuity_days
    from {{ ref('kpi_parameters') }}
),

sets as (
    select kpi_code, product_code from {{ ref('kpi_product_set') }}
),

monthly as (
    -- One pass over the practices: every count the leaves need, by owner x month of the event.
    select
        p.structure_code,
        e.month_start,
        count(*) filter (
            where e.kind = 'received' and not p.is_cancelled and p.review_flag and s_rdc.product_code is not null
        ) as rdc_review_received,
        count(*) filter (
            where e.kind = 'defined' and p.is_defined and p.review_flag and s_rdc.product_code is not null
        ) as rdc_review_defined,
        count(*) filter (where e.kind = 'received' and not p.is_cancelled and s_fam.product_code is not null)
            as family_received,
        count(*) filter (where e.kind = 'defined' and p.is_defined and s_fam.product_code is not null)
            as family_defined,
        count(*) filter (where e.kind = 'defined' and p.is_defined and p.project_tag = 'A') as project_a,
        count(*) filter (where e.kind = 'defined' and p.is_defined and p.project_tag = 'B') as project_b,
        count(*) filter (where e.kind = 'defined' and p.is_defined and p.project_tag = 'C') as project_c,
        count(*) filter (where e.kind = 'defined' and p.outcome = 'granted' and s_con.product_code is not null)
            as continuity_granted,
        count(*) filter (
            where
                e.kind = 'defined' and p.outcome = 'granted' and s_con.product_code is not null
                and p.defined_on - greatest(coalesce(p.entitlement_on, p.received_on), p.received_on)
                <= (select continuity_days from params)
        ) as continuity_on_time,
        count(*) filter (where e.kind = 'defined' and p.outcome = 'granted' and s_avg.product_code is not null)
            as avg_time_granted,
        sum(p.defined_on - p.received_on) filter (
            where e.kind = 'defined' and p.outcome = 'granted' and s_avg.product_code is not null
        ) as avg_time_days
    from {{ ref('int_practices_enriched') }} as p
    cross join lateral (
        select 'received' as kind, p.received_month as month_start
        union all
        select 'defined', p.defined_month where p.defined_on is not null
    ) as e
    left join sets as s_rdc on s_rdc.kpi_code = 'G.1' and p.product_code = s_rdc.product_code
    left join sets as s_fam on s_fam.kpi_code = 'G.2' and p.product_code = s_fam.product_code
    left join sets as s_con on s_con.kpi_code = 'IMP_CONTINUITY' and p.product_code = s_con.product_code
    left join sets as s_avg on s_avg.kpi_code = 'IMP_AVG_TIME' and p.product_code = s_avg.product_code
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
        on year(r.month_start) = me.year and r.month_start <= me.month_start
    group by all
),

long as (
    select period_end, structure_code, 'RDC_REVIEW_DEFINED_SHARE' as quantity_code,
        ytd_rdc_review_defined as numerator, ytd_rdc_review_received as denominator,
        100.0 * ytd_rdc_review_defined / nullif(ytd_rdc_review_received, 0) as actual_value
    from ytd
    union all
    select period_end, structure_code, 'FAMILY_SUPPORT_DEFINED_SHARE',
        ytd_family_defined, ytd_family_received, 100.0 * ytd_family_defined / nullif(ytd_family_received, 0)
    from ytd
    union all
    select period_end, structure_code, 'IMPROVEMENT_PROJECTS.A', ytd_project_a, null, ytd_project_a from ytd
    union all
    select period_end, structure_code, 'IMPROVEMENT_PROJECTS.B', ytd_project_b, null, ytd_project_b from ytd
    union all
    select period_end, structure_code, 'IMPROVEMENT_PROJECTS.C', ytd_project_c, null, ytd_project_c from ytd
    union all
    select period_end, structure_code, 'IMP_CONTINUITY',
        ytd_continuity_on_time, ytd_continuity_granted,
        100.0 * ytd_continuity_on_time / nullif(ytd_continuity_granted, 0)
    from ytd
    union all
    select period_end, structure_code, 'IMP_AVG_TIME',
        ytd_avg_time_days, ytd_avg_time_granted, ytd_avg_time_days / nullif(ytd_avg_time_granted, 0)
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
