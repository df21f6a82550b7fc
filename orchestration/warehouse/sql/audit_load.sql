-- The loader's ledger and quarantine: one ledger row per load attempt (never updated), one quarantine row per
-- rule a row breaks. Every statement is "if not exists" (or adds a column if missing): applying this file
-- again never changes or drops data.
create schema if not exists raw;
create schema if not exists audit;
create sequence if not exists audit.delivery_seq start 1;
create table if not exists audit.load_ledger (
    delivery_id bigint primary key,
    file varchar not null,
    family varchar,
    month date,
    checksum varchar,
    rows_read bigint,
    rows_accepted bigint,
    rows_rejected bigint,
    min_event_month date,
    outcome varchar not null,
    message varchar,
    loaded_at timestamp not null,
    rule_id varchar,
    warning varchar,
    accepted_reason varchar
);
-- Added after the first release: a warehouse created before gets them here (NULL on its earlier rows).
-- rule_id: the rule of a rejection; warning: the rule of a load that went ahead with a finding
-- (volume_anomaly, or volume_drop accepted by the operator with accepted_reason).
alter table audit.load_ledger add column if not exists rule_id varchar;
alter table audit.load_ledger add column if not exists warning varchar;
alter table audit.load_ledger add column if not exists accepted_reason varchar;
create table if not exists audit.quarantine (
    delivery_id bigint not null,
    file varchar not null,
    row_number bigint not null,
    column_name varchar not null,
    rule_id varchar not null,
    value varchar
);
create or replace view audit.current_deliveries as
select family, month, max(delivery_id) as delivery_id
from audit.load_ledger
where outcome in ('loaded', 'restated')
group by family, month;
create or replace view audit.deliveries as
select
    l.*,
    c.delivery_id is not null as is_current,
    (select min(n.delivery_id) from audit.load_ledger n
      where n.family = l.family and n.month = l.month and n.delivery_id > l.delivery_id
        and n.outcome in ('loaded', 'restated')) as superseded_by
from audit.load_ledger l
left join audit.current_deliveries c on c.delivery_id = l.delivery_id;
