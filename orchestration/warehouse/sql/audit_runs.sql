-- What a run records about itself: data-quality results, month closes and failed runs.
-- Every statement is "if not exists": applying this file never changes or drops data.
create schema if not exists audit;

create table if not exists audit.dq_results (
    run_id varchar not null,
    suite varchar not null,
    expectation varchar not null,
    rule varchar,
    asset varchar,
    partition varchar,
    success boolean not null,
    severity varchar not null,
    unexpected_count bigint,
    element_count bigint,
    failing_keys varchar,
    observed_value varchar,
    description varchar,
    checked_at timestamp not null
);

create table if not exists audit.month_close (
    period date not null,
    run_id varchar not null,
    closed_at timestamp not null,
    run_trigger varchar,
    kpi_rows bigint not null,
    scored_rows bigint not null,
    structures bigint not null,
    last_delivery_id bigint
);

create table if not exists audit.run_failures (
    run_id varchar primary key,
    job varchar not null,
    failed_at timestamp not null,
    step varchar,
    message varchar,
    run_tags varchar
);
