-- Every saved what-if scenario (piramide whatif --save) beside the baseline it was computed against: one row
-- per scenario x month-end x structure x node of the scored tree. The baseline columns are frozen when the
-- scenario is saved, so the delta stays the effect of the overrides alone even after later restatements. A
-- view over scenario.saved_scores (written by Python), so a newly saved scenario shows without a rebuild.
{{ config(materialized='view') }}
select
    s.scenario_name::varchar as scenario_name,
    s.period_end::date as period_end,
    s.structure_code::varchar as structure_code,
    s.node_code::varchar as node_code,
    s.node_kind::varchar as node_kind,
    s.weight::double as weight,
    s.baseline_weight::double as baseline_weight,
    s.score::double as score,
    s.baseline_score::double as baseline_score,
    (s.score - s.baseline_score)::double as delta,
    s.weight_coverage::double as weight_coverage,
    s.baseline_weight_coverage::double as baseline_weight_coverage,
    s.computed_at::timestamp as computed_at
from {{ source('scenario', 'saved_scores') }} as s
