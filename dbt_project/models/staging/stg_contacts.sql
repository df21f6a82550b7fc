{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='contact_id',
    on_schema_change='fail',
    post_hook="{{ drop_superseded_state() }}"
) }}

-- Latest state of every customer-care contact, incremental by delivery (macros/latest_state.sql). The
-- requester's pseudonym stays in raw: no KPI needs the person.
{{ latest_state('contacts', 'contact_id', [
    'contact_id', 'structure_code', 'channel_code', 'user_type', 'opened_at', 'first_response_at',
    'closed_at', 'status', 'changed_on', 'delivery_id', 'delivery_month', '_file', '_row'
]) }}
