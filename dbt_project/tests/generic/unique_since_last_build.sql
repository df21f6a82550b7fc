{#-
    Keys that occur more than once. An incremental build of a latest-state model writes only the keys it
    re-ranks, and it keeps those in its `__changes` side table (macros/practice_changes.sql) until the practice
    cube consumes them, which `dbt build` runs after this test: after an incremental build only those keys are
    read, since no other key was written. With no side table, or one holding a reset row (the first build, a
    full refresh), every key is read.
-#}
{% test unique_since_last_build(model, column_name) %}
{%- set changes = adapter.get_relation(model.database, model.schema, model.identifier ~ '__changes')
    if execute else none %}
{%- set ns = namespace(partial=false) %}
{%- if changes is not none %}
    {%- set resets = run_query('select count(*) from ' ~ changes ~ ' where is_reset') %}
    {%- set ns.partial = resets.columns[0].values()[0] == 0 %}
{%- endif %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
{%- if ns.partial %}
    and {{ column_name }} in (select c.{{ column_name }} from {{ changes }} as c)
{%- endif %}
group by {{ column_name }}
having count(*) > 1
{% endtest %}
