{#- The tables of the `publish` and `scenario` schemas. They are written by Python (orchestration/publication,
    orchestration/scenario), never by a dbt model, so no `dbt build --full-refresh` can drop a publication; the
    marts views over them (fct_published_scores, fct_scenario_scores) run these statements as a pre-hook so a
    fresh warehouse builds. This file is the one definition: Python executes the same text with `db` empty, so
    keep each macro's body plain SQL whose only template expression is the catalogue prefix.
    Every statement is "if not exists": nothing here ever replaces or drops data. -#}

{% macro publish_ddl(db='') -%}
create schema if not exists {{ db }}publish;
create sequence if not exists {{ db }}publish.publication_seq start 1;
create table if not exists {{ db }}publish.publications (
    publication_id bigint primary key,
    event varchar not null,
    period_end date not null,
    version integer,
    refers_to bigint,
    published_at timestamp not null,
    published_by varchar,
    note varchar,
    forced boolean not null,
    reason varchar,
    code_version varchar,
    code_hash varchar,
    seeds_hash varchar,
    deliveries varchar,
    checks varchar,
    vpi_score double,
    vpi_weight_coverage double,
    scores_rows bigint,
    pyramid_rows bigint,
    content_hash varchar
);
create table if not exists {{ db }}publish.published_scores (
    publication_id bigint not null,
    period_end date not null,
    structure_code varchar not null,
    kpi_code varchar not null,
    node_kind varchar,
    actual_value double,
    numerator double,
    denominator double,
    target_value double,
    polarity integer,
    cap_high double,
    deviation double,
    deviation_capped double,
    score double,
    score_vs_budget double,
    improved_since_previous_quarter_end boolean,
    weight_coverage double,
    is_complete boolean,
    dq_status varchar,
    primary key (publication_id, structure_code, kpi_code)
);
create table if not exists {{ db }}publish.published_pyramid (
    publication_id bigint not null,
    period_end date not null,
    structure_code varchar not null,
    node_code varchar not null,
    parent_code varchar,
    node_level integer,
    node_kind varchar,
    weight double,
    score double,
    weight_coverage double,
    is_complete boolean,
    primary key (publication_id, structure_code, node_code)
);
create table if not exists {{ db }}publish.published_seeds (
    publication_id bigint not null,
    seed_name varchar not null,
    sha256 varchar not null,
    size_bytes bigint not null,
    primary key (publication_id, seed_name)
);
create table if not exists {{ db }}publish.seed_contents (
    sha256 varchar primary key,
    content varchar not null
);
{%- endmacro %}

{% macro scenario_ddl(db='') -%}
create schema if not exists {{ db }}scenario;
create table if not exists {{ db }}scenario.overrides (
    scenario_name varchar not null,
    position integer not null,
    override_kind varchar not null,
    node_code varchar not null,
    structure_code varchar,
    year integer,
    value double not null,
    spec varchar not null,
    created_at timestamp not null
);
create table if not exists {{ db }}scenario.saved (
    scenario_name varchar primary key,
    note varchar,
    overrides varchar not null,
    created_at timestamp not null
);
create table if not exists {{ db }}scenario.saved_scores (
    scenario_name varchar not null,
    period_end date not null,
    structure_code varchar not null,
    node_code varchar not null,
    node_kind varchar,
    weight double,
    baseline_weight double,
    score double,
    baseline_score double,
    weight_coverage double,
    baseline_weight_coverage double,
    computed_at timestamp not null
);
{%- endmacro %}
