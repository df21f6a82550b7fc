-- Where the year is heading: at every month-end, each year-to-date leaf, part or reported KPI (period basis
-- ytd_flow or ytd_ratio) projected to the year-end at its current pace, and the score that year-end would get.
-- The pace is the year-to-date actual over the target profile's share of the year at that month (the share its
-- month-end target uses), so a leaf exactly on its month-end target projects exactly onto its annual target.
with leaves as (
    select
        s.period_end,
        s.structure_code,
        s.kpi_code,
        k.period_basis,
        s.node_kind,
        s.polarity,
        s.cap_high,
        s.actual_value,
        t.profile_share,
        t.annual_target
    from {{ ref('fct_kpi_scores') }} as s
    inner join {{ ref('dim_kpi') }} as k on s.kpi_code = k.node_code
    inner join {{ ref('int_kpi_targets') }} as t
        on s.period_end = t.period_end and s.structure_code = t.structure_code and s.kpi_code = t.node_code
    where s.node_kind in ('leaf', 'part', 'reported') and k.period_basis in ('ytd_flow', 'ytd_ratio')
),

projected as (
    select
        *,
        case when profile_share > 0 then actual_value / profile_share end as projected_year_end
    from leaves
),

deviations as (
    select
        *,
        {{ deviation('projected_year_end', 'annual_target', 'polarity') }} as projected_deviation
    from projected
)

select
    period_end,
    structure_code,
    kpi_code,
    period_basis,
    actual_value::double as actual_value,
    profile_share::double as profile_share,
    projected_year_end::double as projected_year_end,
    annual_target::double as annual_target,
    -- a reported KPI is projected but, like its month-end figure, not scored
    case when node_kind <> 'reported' then {{ score(deviation_capped('projected_deviation', 'cap_high')) }} end::double
        as projected_score
from deviations
