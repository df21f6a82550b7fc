-- The append-only publications (piramide publish). Written by Python only, never by a dbt model, so no
-- `dbt build --full-refresh` can drop one; every statement is "if not exists".
create schema if not exists publish;
create sequence if not exists publish.publication_seq start 1;
create table if not exists publish.publications (
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
create table if not exists publish.published_scores (
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
create table if not exists publish.published_pyramid (
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
create table if not exists publish.published_seeds (
    publication_id bigint not null,
    seed_name varchar not null,
    sha256 varchar not null,
    size_bytes bigint not null,
    primary key (publication_id, seed_name)
);
create table if not exists publish.seed_contents (
    sha256 varchar primary key,
    content varchar not null
);
