-- One row per delivery month, for the operator closing a month and the auditor reading it: which extract
-- families were delivered, which structures that usually deliver a family did not, what the loader
-- quarantined or rejected, and how much of the VPI's weight the month's data back.
-- "Usually deliver" is learnt from the data (every structure that appears in any current delivery of the
-- family), so a real institute's structure list needs no configuration here.
{%- set structure_families = ['practices', 'contacts', 'staff', 'costs', 'revenue', 'measures'] %}

with current_deliveries as (
    select
        c.family,
        c.month,
        c.delivery_id,
        l.rows_accepted,
        l.loaded_at
    from {{ source('audit', 'current_deliveries') }} as c
    inner join {{ source('audit', 'load_ledger') }} as l on c.delivery_id = l.delivery_id
),

months as (
    select unnest(generate_series(min(month), max(month), interval 1 month))::date as month
    from current_deliveries
),

delivered as (
    select
        month,
        count(distinct family) as families_delivered,
        list_sort(list_distinct(list(family))) as families,
        sum(rows_accepted) as rows_loaded,
        max(loaded_at) as last_loaded_at
    from current_deliveries
    group by month
),

all_families as (
    select
        count(distinct family) as families_known,
        list_sort(list_distinct(list(family))) as families
    from current_deliveries
),

{% for fam in structure_families %}
{{ fam }}_delivered as (
    select distinct
        r.delivery_month as month,
        r.structure_code
    from {{ source('raw', fam) }} as r
    inner join current_deliveries as c on r.delivery_id = c.delivery_id
),

{{ fam }}_missing as (
    select
        m.month,
        count(*) as structures_missing
    from months as m
    cross join (select distinct structure_code from {{ fam }}_delivered) as p
    where
        not exists (
            select 1 from {{ fam }}_delivered as d
            where d.month = m.month and d.structure_code = p.structure_code
        )
    group by m.month
),

{% endfor %}
quarantined_rows as (
    select distinct
        c.month,
        q.delivery_id,
        q.row_number
    from {{ source('audit', 'quarantine') }} as q
    inner join current_deliveries as c on q.delivery_id = c.delivery_id
),

quarantined as (
    select
        month,
        count(*) as rows_quarantined
    from quarantined_rows
    group by month
),

rejected as (
    select
        month,
        count(*) as files_rejected
    from {{ source('audit', 'load_ledger') }}
    where outcome = 'rejected' and month is not null
    group by month
),

vpi as (
    select
        date_trunc('month', period_end)::date as month,
        score,
        weight_coverage
    from {{ ref('fct_value_pyramid') }}
    where node_code = 'VPI' and structure_code = 'nazionale'
)

select
    m.month,
    last_day(m.month) as period_end,
    m.month = (select min(month) from months) as is_opening_month,
    coalesce(d.families_delivered, 0)::integer as families_delivered,
    a.families_known::integer as families_known,
    array_to_string(coalesce(d.families, []), ', ') as families_delivered_list,
    array_to_string([f for f in a.families if not list_contains(coalesce(d.families, []), f)], ', ')
        as families_missing,
    {% for fam in structure_families -%}
    coalesce({{ fam }}_missing.structures_missing, 0)::integer as structures_missing_{{ fam }},
    {% endfor -%}
    coalesce(d.rows_loaded, 0)::bigint as rows_loaded,
    coalesce(q.rows_quarantined, 0)::bigint as rows_quarantined,
    coalesce(r.files_rejected, 0)::integer as files_rejected,
    d.last_loaded_at,
    v.score as vpi_score,
    v.weight_coverage as vpi_weight_coverage
from months as m
cross join all_families as a
left join delivered as d on m.month = d.month
{% for fam in structure_families -%}
left join {{ fam }}_missing on m.month = {{ fam }}_missing.month
{% endfor -%}
left join quarantined as q on m.month = q.month
left join rejected as r on m.month = r.month
left join vpi as v on m.month = v.month
order by m.month
