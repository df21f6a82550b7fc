{#-
    Keys that occur more than once. An incremental build of a latest-state model writes only the keys it
    re-ranks, and it keeps those in its `__changes` side table (macros/practice_changes.sql) until the practice
    cube consumes them, which `dbt build` runs after this test: after an incremental build only those keys are
    read, since no other key was written. Every key is read when the side table cannot say what was written:
    there is none, it holds a reset row (the first build, a full refresh), or it is empty (the cube has
    consumed it: a `dbt test` run on its own after a build, or a build that wrote no state).
-#}
{% test unique_since_last_build(model, column_name) %}
{%- set changes = adapter.get_relation(model.database, model.schema, model.identifier ~ '__changes')
    if execute else none %}
{%- set ns = namespace(partial=false) %}
{%- if changes is not none %}
    {%- set pending = run_query('select count(*) > 0 and count(*) filter (where is_reset) = 0 from ' ~ changes) %}
    {%- set ns.partial = pending.columns[0].values()[0] %}
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
