-- Practices with their catalogue attributes and attribution flags, computed once for every consumer.
select
    p.practice_id,
    p.structure_code,
    p.producing_structure_code,
    p.product_code,
    p.received_on,
    p.entitlement_on,
    p.defined_on,
    p.outcome,
    p.project_tag,
    p.review_flag,
    c.coefficient_hours,
    c.backlog_group,
    c.in_total_backlog,
    c.in_produzione_lorda,
    c.in_productivity_scope,
    c.standard_days,
    c.quality_index,
    date_trunc('month', p.received_on)::date as received_month,
    date_trunc('month', p.defined_on)::date as defined_month,
    coalesce(p.outcome = 'cancelled', false) as is_cancelled,
    coalesce(p.outcome in ('granted', 'rejected', 'other'), false) as is_defined,
    -- Sussidiarieta: the producer's regional entity differs from the owner's; central producers have none.
    coalesce(prod.regional_entity_code, prod.structure_code) <> own.regional_entity_code as is_sussidiarieta,
    p.delivery_id,
    p._file,
    p._row
from {{ ref('stg_practices') }} as p
inner join {{ ref('product_catalogue') }} as c on p.product_code = c.product_code
inner join {{ ref('structures') }} as own on p.structure_code = own.structure_code
inner join {{ ref('structures') }} as prod on p.producing_structure_code = prod.structure_code
