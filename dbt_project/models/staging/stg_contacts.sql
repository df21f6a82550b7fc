{{ config(materialized='table') }}

-- Latest state of every customer-care contact: its row in the latest delivery month among the current
-- deliveries (LANDING_CONTRACT: a late restatement of March never overwrites May). The requester's
-- pseudonym stays in raw: no KPI needs the person.
with current_rows as (
    select c.*
    from {{ source('raw', 'contacts') }} as c
    inner join {{ source('audit', 'current_deliveries') }} as d
        on c.delivery_id = d.delivery_id
)

select
    contact_id,
    structure_code,
    channel_code,
    user_type,
    opened_at,
    first_response_at,
    closed_at,
    status,
    changed_on,
    delivery_id,
    delivery_month,
    _file,
    _row
from current_rows
qualify row_number() over (
    partition by contact_id order by delivery_month desc, changed_on desc, _row desc
) = 1
