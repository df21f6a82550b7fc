{{ config(materialized='table') }}

with current_rows as (
    select p.*
    from {{ source('raw', 'practices') }} as p
    inner join {{ source('audit', 'current_deliveries') }} as c
        on p.delivery_id = c.delivery_id
)

select
    practice_id,
    structure_code,
    producing_structure_code,
    product_code,
    received_on,
    entitlement_on,
    defined_on,
    outcome,
    changed_on,
    project_tag,
    review_flag,
    delivery_id,
    delivery_month,
    _file,
    _row
from current_rows
qualify row_number() over (
    partition by practice_id order by delivery_month desc, changed_on desc, _row desc
) = 1
