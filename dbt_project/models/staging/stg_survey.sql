-- Survey responses of the current deliveries, one row per response. A response re-delivered in a later
-- file keeps its latest values ("as corrected") but counts as delivered from its first file, which is what
-- decides which wave a month-end can see (docs/decisions.md §11, IMP_REPUTATION).
with current_rows as (
    {{ current_rows('survey') }}
)

select
    response_id,
    wave,
    channel_code,
    overall_score,
    score_f1,
    score_f2,
    score_f3,
    score_f4,
    min(delivery_month) over (partition by response_id) as first_delivery_month,
    delivery_id,
    delivery_month,
    _file,
    _row
from current_rows
qualify row_number() over (
    partition by response_id
    order by delivery_month desc, _row desc
) = 1
