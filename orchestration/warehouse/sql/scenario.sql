-- What-if scenarios (piramide whatif): overrides and saved scenarios. Written by Python only; every
-- statement is "if not exists".
create schema if not exists scenario;
create table if not exists scenario.overrides (
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
create table if not exists scenario.saved (
    scenario_name varchar primary key,
    note varchar,
    overrides varchar not null,
    created_at timestamp not null
);
create table if not exists scenario.saved_scores (
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
