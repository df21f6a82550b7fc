-- Producer view, producing structure x product x month: the points each structure defined (credited to
-- the producer: produzione lorda, productivity, cost per point, sussidiarieta; docs/decisions.md §6).
select
    e.producing_structure_code as structure_code,
    e.product_code,
    e.month_start,
    sum(e.defined)::bigint as defined_pieces,
    sum(e.defined * c.coefficient_hours) as defined_points,
    sum(e.defined * c.coefficient_hours) filter (where c.in_produzione_lorda) as points_lorda,
    sum(e.defined * c.coefficient_hours) filter (where c.in_productivity_scope) as points_productivity_scope,
    -- Sussidiarieta: the producer's regional entity differs from the owner's; central producers have none.
    sum(e.defined * c.coefficient_hours) filter (
        where c.in_produzione_lorda
        and coalesce(prod.regional_entity_code, prod.structure_code) <> own.regional_entity_code
    ) as points_sussidiarieta
from {{ ref('int_practice_events') }} as e
inner join {{ ref('product_catalogue') }} as c on e.product_code = c.product_code
inner join {{ ref('structures') }} as own on e.structure_code = own.structure_code
inner join {{ ref('structures') }} as prod on e.producing_structure_code = prod.structure_code
where e.event = 'defined' and e.defined > 0
group by all
