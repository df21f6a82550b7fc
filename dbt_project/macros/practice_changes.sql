{#
    The practice cube (int_practice_events) is maintained by difference: a build adds the contributions of the
    practices' new states and subtracts those of the states they replaced. stg_practices keeps those replaced
    states in `staging.stg_practices__changes` until the cube has consumed them:

    - a pre-hook of stg_practices records, for every key it is about to re-rank, the state the cube counted
      (`has_prior`; none for a new practice). A key already recorded keeps its first prior state: that is the
      one the cube still holds, however many staging builds ran since;
    - a full refresh of stg_practices (or a changes table that is missing) records one `is_reset` row instead:
      the cube can no longer know what it counted and rebuilds whole;
    - the cube's post-hook empties the table once the cube holds every change.
#}
{# A side table of a model: its relation's name plus `suffix`, as SQL text. #}
{% macro side_table(relation, suffix) -%}
    {{ relation.database }}.{{ relation.schema }}.{{ relation.identifier }}{{ suffix }}
{%- endmacro %}


{% macro table_exists(relation, suffix) -%}
    {{ adapter.get_relation(relation.database, relation.schema, relation.identifier ~ suffix) is not none }}
{%- endmacro %}


{# Pre-hook of stg_practices. #}
{% macro capture_replaced_practices() %}
    {%- set changes = side_table(this, '__changes') -%}
    {%- if not execute -%}
        select 1
    {%- elif is_incremental() and table_exists(this, '__changes') | trim == 'True' -%}
        insert into {{ changes }} by name
        select
            s.* exclude (practice_id),
            touched.practice_id,
            s.practice_id is not null as has_prior,
            false as is_reset
        from ({{ touched_keys('practices', 'practice_id') }}) as touched
        left join {{ this }} as s on touched.practice_id = s.practice_id
        where touched.practice_id not in (
            select c.practice_id from {{ changes }} as c where c.practice_id is not null
        )
    {%- elif table_exists(this, '') | trim == 'True' -%}
        create or replace table {{ changes }} as
        select
            s.*,
            true as has_prior,
            true as is_reset
        from {{ this }} as s
        limit 0;
        insert into {{ changes }} (is_reset) values (true)
    {%- else -%}
        drop table if exists {{ changes }}
    {%- endif -%}
{% endmacro %}


{# What the cube's counts depend on besides the states: the catalogue's standard days, the structures, the
   continuity parameter. A change to any of them makes the next build rebuild the cube whole. #}
{% macro practice_cube_fingerprint() %}
    md5(
        (select string_agg(pc.product_code || ':' || pc.standard_days, ',' order by pc.product_code)
         from {{ ref('product_catalogue') }} as pc)
        || '|' || (select string_agg(st.structure_code, ',' order by st.structure_code)
                   from {{ ref('structures') }} as st)
        || '|' || (select coalesce(max(kp.value) filter (where kp.parameter = 'continuity_days')::varchar, '')
                   from {{ ref('kpi_parameters') }} as kp)
    )
{% endmacro %}


{# 'true' when the cube cannot be updated by difference and must be rebuilt whole, else 'false'. #}
{% macro practice_cube_reset() -%}
    {%- if not execute or not is_incremental() -%}
        true
    {%- elif table_exists(ref('stg_practices'), '__changes') | trim != 'True'
        or table_exists(this, '__reference') | trim != 'True' -%}
        true
    {%- else -%}
        {%- set check -%}
            select
                (select count(*) from {{ side_table(ref('stg_practices'), '__changes') }} where is_reset)
                + (select count(*) from {{ side_table(this, '__reference') }}
                   where fingerprint is distinct from {{ practice_cube_fingerprint() }})
        {%- endset -%}
        {{ 'true' if run_query(check).columns[0].values()[0] > 0 else 'false' }}
    {%- endif -%}
{%- endmacro %}


{# Post-hook of the cube: it now holds every recorded change, and the reference data it was built on. #}
{% macro practice_cube_consumed() %}
    {%- set changes = side_table(ref('stg_practices'), '__changes') -%}
    create or replace table {{ side_table(this, '__reference') }} as select {{ practice_cube_fingerprint() }} as fingerprint;
    create or replace table {{ changes }} as
    select
        s.*,
        true as has_prior,
        false as is_reset
    from {{ ref('stg_practices') }} as s
    limit 0
{% endmacro %}
