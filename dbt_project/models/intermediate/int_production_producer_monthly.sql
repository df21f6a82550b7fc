-- Producer view, producing structure x product x month: the points each structure defined (credited to
-- the producer: produzione lorda, productivity, cost per point, sussidiarieta; KPI_SPEC section 3).
select
    producing_structure_code as structure_code,
    product_code,
    defined_month as month_start,
    count(*) as defined_pieces,
    sum(coefficient_hours) as defined_points,
    sum(coefficient_hours) filter (where in_produzione_lorda) as points_lorda,
    sum(coefficient_hours) filter (where in_productivity_scope) as points_productivity_scope,
    sum(coefficient_hours) filter (where is_sussidiarieta and in_produzione_lorda) as points_sussidiarieta
from {{ ref('int_practices_enriched') }}
where is_defined
group by all
