-- Every row of fct_kpi_scores satisfies the three scoring formulas of docs/decisions.md §2.
-- A reported KPI (kind 'reported') never has a score.
select *
from {{ ref('fct_kpi_scores') }}
where
    (deviation is not null and abs(deviation - polarity * (actual_value - target_value) / abs(target_value)) > 1e-9)
    or (deviation is not null and abs(deviation_capped - least(cap_high, greatest(-0.5, deviation))) > 1e-12)
    or (deviation_capped is not null and abs(score - 100 * (1 + deviation_capped)) > 1e-9)
    or (actual_value is not null and target_value is not null and score is null and node_kind <> 'reported')
    or (node_kind = 'reported' and (score is not null or score_vs_budget is not null))
    or (actual_value is null and score is not null)
