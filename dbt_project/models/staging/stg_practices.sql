{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='practice_id',
    on_schema_change='fail',
    pre_hook="{{ capture_replaced_practices() }}",
    post_hook="{{ drop_superseded_state() }}"
) }}

-- Latest state of every practice (docs/landing_contract.md): incremental by delivery, see macros/latest_state.sql.
-- The states a build replaces are kept for the practice cube (macros/practice_changes.sql).
{{ latest_state('practices', 'practice_id', [
    'practice_id', 'structure_code', 'producing_structure_code', 'product_code', 'received_on',
    'entitlement_on', 'defined_on', 'outcome', 'changed_on', 'project_tag', 'review_flag',
    'delivery_id', 'delivery_month', '_file', '_row'
]) }}
