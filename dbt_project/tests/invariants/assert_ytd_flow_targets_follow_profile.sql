-- Month-end targets of ytd_flow KPIs follow the profile (KPI_SPEC 2.1): March 2021 is 25 % of the annual
-- target for produzione lorda (quarterly profile, L4495), 20 % for sussidiarieta (L4497), 3/12 otherwise.
select t.*, n.period_basis
from {{ ref('int_kpi_targets') }} as t
inner join {{ ref('kpi_nodes') }} as n on t.node_code = n.node_code
where
    t.period_end = date '2021-03-31'
    and n.period_basis = 'ytd_flow'
    and n.kind <> 'composite'
    and abs(
        t.target_value - t.annual_target * case
            when t.node_code = 'PRODUZIONE_LORDA' then 0.25
            when t.node_code = 'SUSSIDIARIETA' then 0.20
            when t.node_code in (select node_code from {{ ref('target_profiles') }}) then t.profile_share
            else 3 / 12
        end
    ) > 1e-6 * abs(t.annual_target)
