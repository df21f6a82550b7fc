-- Every score ever published (piramide publish), for BI: one row per publication x structure x node, the
-- frozen fct_kpi_scores rows (leaves, composites, parts, reported KPIs) plus the frozen pyramid nodes above the
-- leaves (VPI, SP/PG/PI, areas, objectives, perspectives), with the publication's version and time. A view
-- over the append-only publish schema, so a new publication shows here without a rebuild.
{{ config(materialized='view') }}
with publications as (
    select
        publication_id,
        period_end,
        version,
        published_at,
        forced,
        note,
        version = max(version) over (partition by period_end) as is_latest_version
    from {{ source('publish', 'publications') }}
    where event = 'publish'
),

kpi_rows as (
    select
        s.publication_id,
        s.structure_code,
        s.kpi_code as node_code,
        s.node_kind,
        y.parent_code,
        y.weight,
        s.actual_value,
        s.numerator,
        s.denominator,
        s.target_value,
        s.polarity,
        s.deviation,
        s.deviation_capped,
        s.score,
        s.score_vs_budget,
        s.weight_coverage,
        s.is_complete,
        s.dq_status
    from {{ source('publish', 'published_scores') }} as s
    left join {{ source('publish', 'published_pyramid') }} as y
        on
            s.publication_id = y.publication_id
            and s.structure_code = y.structure_code
            and s.kpi_code = y.node_code
),

tree_rows as (
    select
        y.publication_id,
        y.structure_code,
        y.node_code,
        y.node_kind,
        y.parent_code,
        y.weight,
        null::double as actual_value,
        null::double as numerator,
        null::double as denominator,
        null::double as target_value,
        null::integer as polarity,
        null::double as deviation,
        null::double as deviation_capped,
        y.score,
        null::double as score_vs_budget,
        y.weight_coverage,
        y.is_complete,
        null::varchar as dq_status
    from {{ source('publish', 'published_pyramid') }} as y
    where y.node_kind not in ('leaf', 'composite')
),

all_rows as (
    select * from kpi_rows
    union all
    select * from tree_rows
)

select
    p.publication_id::bigint as publication_id,
    p.version::integer as version,
    p.period_end::date as period_end,
    p.published_at::timestamp as published_at,
    p.forced::boolean as forced,
    p.is_latest_version::boolean as is_latest_version,
    r.structure_code::varchar as structure_code,
    r.node_code::varchar as node_code,
    r.node_kind::varchar as node_kind,
    r.parent_code::varchar as parent_code,
    r.weight::double as weight,
    r.actual_value::double as actual_value,
    r.numerator::double as numerator,
    r.denominator::double as denominator,
    r.target_value::double as target_value,
    r.polarity::integer as polarity,
    r.deviation::double as deviation,
    r.deviation_capped::double as deviation_capped,
    r.score::double as score,
    r.score_vs_budget::double as score_vs_budget,
    r.weight_coverage::double as weight_coverage,
    r.is_complete::boolean as is_complete,
    r.dq_status::varchar as dq_status
from publications as p
inner join all_rows as r
    on p.publication_id = r.publication_id
