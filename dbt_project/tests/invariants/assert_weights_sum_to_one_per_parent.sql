-- At every structure level the weights of a node's children sum to 1 (before renormalisation over the
-- children that apply and have data).
select w.parent_code, w.level, sum(w.weight) as weight_sum
from {{ ref('int_kpi_weights') }} as w
where w.parent_code is not null and w.level <> 'central'
group by w.parent_code, w.level
having abs(sum(w.weight) - 1) > 1e-9
