{#
    Rows of the current delivery of every month of a raw family: a restatement supersedes the month's
    earlier file (docs/landing_contract.md), and raw keeps the superseded rows for the audit trail.
#}
{% macro current_rows(family, alias='r') %}
    select {{ alias }}.*
    from {{ source('raw', family) }} as {{ alias }}
    inner join {{ source('audit', 'current_deliveries') }} as current_delivery
        on {{ alias }}.delivery_id = current_delivery.delivery_id
{% endmacro %}


{#
    Latest state of every entity of a family: its row in the latest delivery month among the current deliveries
    (a late restatement of March never overwrites May), ties broken by report date then file row.

    Incremental by delivery: a build only re-ranks the entities that a delivery loaded since the last build
    mentions, plus those whose stored state came from a delivery that has since been superseded. A new month
    therefore costs the size of that month, not of the history. Re-ranking reads every current row of those
    entities, so a restatement of an old month is handled exactly like a new one. An entity left with no
    current row at all (a restatement dropped it) is removed by `drop_superseded_state`, run as a post-hook.
#}
{% macro latest_state(family, key, columns) %}
with current_rows as (
    -- Only the ranking columns and the row id go through the window; the winners' other columns are fetched
    -- by row id afterwards (a third less time than sorting every column through the window).
    select
        r.rowid as raw_rowid,
        r.{{ key }},
        r.delivery_month,
        r.changed_on,
        r._row
    from {{ source('raw', family) }} as r
    inner join {{ source('audit', 'current_deliveries') }} as current_delivery
        on r.delivery_id = current_delivery.delivery_id
)
{%- if is_incremental() %},

touched as (
    {{ touched_keys(family, key) }}
)
{%- endif %},

winners as (
    select raw_rowid
    from current_rows
    {%- if is_incremental() %}
    where {{ key }} in (select touched.{{ key }} from touched)
    {%- endif %}
    qualify row_number() over (
        partition by {{ key }} order by delivery_month desc, changed_on desc, _row desc
    ) = 1
)

select
    {{ columns | join(',\n    ') }}
from {{ source('raw', family) }}
where rowid in (select winners.raw_rowid from winners)
{% endmacro %}


{% macro drop_superseded_state() %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where delivery_id not in (select delivery_id from {{ source('audit', 'current_deliveries') }})
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}


{#
    Keys whose latest state a build of {{ this }} re-ranks: those the deliveries loaded since its last build mention,
    plus those whose stored state came from a delivery that has since been superseded.
#}
{% macro touched_keys(family, key) %}
    select r.{{ key }}
    from {{ source('raw', family) }} as r
    where r.delivery_id in (
        select nd.delivery_id
        from {{ source('audit', 'current_deliveries') }} as nd
        where nd.family = '{{ family }}' and nd.delivery_id > (select coalesce(max(t.delivery_id), 0) from {{ this }} as t)
    )
    union
    select t.{{ key }}
    from {{ this }} as t
    where t.delivery_id not in (select cd.delivery_id from {{ source('audit', 'current_deliveries') }} as cd)
{% endmacro %}
