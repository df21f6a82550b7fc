-- The floor (issue 6): the national December 2021 figures in one hand-written DuckDB script, straight from the
-- loaded raw tables (current deliveries, latest state per practice) and the reference seeds. One scan of the
-- practices; no intermediate tables. Output: one row per figure (kpi_code, actual_value).
with cur as (
    select delivery_id from audit.current_deliveries
),

latest as (
    select p.product_code, p.received_on, p.entitlement_on, p.defined_on, p.outcome
    from raw.practices as p
    semi join cur on p.delivery_id = cur.delivery_id
    qualify row_number() over (
        partition by p.practice_id order by p.delivery_month desc, p.changed_on desc, p._row desc
    ) = 1
),

pr as (
    select
        l.*,
        c.coefficient_hours as k,
        c.backlog_group,
        c.in_total_backlog,
        c.in_produzione_lorda,
        c.in_productivity_scope,
        coalesce(l.outcome in ('granted', 'rejected', 'other'), false) and year(l.defined_on) = 2021 as def21,
        coalesce(l.outcome <> 'cancelled', true) and year(l.received_on) = 2021 as rec21,
        l.received_on <= date '2021-12-31' and (l.defined_on is null or l.defined_on > date '2021-12-31') as open_d,
        l.product_code in (select product_code from reference.kpi_product_set where kpi_code = 'IMP_CONTINUITY')
            as is_cont
    from latest as l
    inner join reference.product_catalogue as c on l.product_code = c.product_code
),

p as (
    select
        sum(k) filter (where def21 and in_produzione_lorda) as lorda,
        sum(k) filter (where def21 and in_productivity_scope) as points_scope,
        count(*) filter (where def21 and in_total_backlog) as defined_total,
        count(*) filter (where rec21 and in_total_backlog) as received_total,
        sum(k) filter (where open_d and in_total_backlog) as backlog_total,
        sum(k) filter (where rec21 and in_total_backlog) as inflow_total,
        sum(k) filter (where open_d and backlog_group = 'PSI') as backlog_psi,
        sum(k) filter (where rec21 and backlog_group = 'PSI') as inflow_psi,
        sum(k) filter (where open_d and backlog_group = 'GCAI') as backlog_gcai,
        sum(k) filter (where rec21 and backlog_group = 'GCAI') as inflow_gcai,
        sum(k) filter (where open_d and backlog_group = 'FLUSSI') as backlog_flussi,
        sum(k) filter (where rec21 and backlog_group = 'FLUSSI') as inflow_flussi,
        sum(k) filter (where open_d and backlog_group = 'ALTRE') as backlog_altre,
        sum(k) filter (where rec21 and backlog_group = 'ALTRE') as inflow_altre,
        count(*) filter (where def21 and outcome = 'granted' and is_cont) as cont_granted,
        count(*) filter (
            where def21 and outcome = 'granted' and is_cont
            and defined_on - greatest(coalesce(entitlement_on, received_on), received_on) <= (
                select max(value) from reference.kpi_parameters where parameter = 'continuity_days'
            )
        ) as cont_on_time
    from pr
),

fte as (
    select sum(s.presence_days / s.working_days) as fte_scope
    from raw.staff as s
    semi join cur on s.delivery_id = cur.delivery_id
    where
        s.role = 'production' and year(s.month) = 2021
        and s.sub_area_code in (
            select sub_area_code from reference.product_catalogue group by 1 having bool_or(in_productivity_scope)
        )
),

costs as (
    select sum(c.amount_eur::decimal(18, 2))::double as total
    from raw.costs as c
    semi join cur on c.delivery_id = cur.delivery_id
    where year(c.month) = 2021
)

select kpi_code, actual_value
from p, fte, costs,
    lateral (values
        ('PRODUZIONE_LORDA', lorda),
        ('IG_TOTAL', backlog_total / inflow_total * 360),
        ('IG_PSI', backlog_psi / inflow_psi * 360),
        ('IG_GCAI', backlog_gcai / inflow_gcai * 360),
        ('IG_FLUSSI', backlog_flussi / inflow_flussi * 360),
        ('IG_ALTRE', backlog_altre / inflow_altre * 360),
        ('OUTFLOW', defined_total / received_total),
        ('PRODUCTIVITY', points_scope / fte_scope),
        ('COST_PER_POINT', costs.total / points_scope),
        ('IMP_CONTINUITY', 100.0 * cont_on_time / cont_granted)
    ) as v (kpi_code, actual_value)
order by kpi_code
