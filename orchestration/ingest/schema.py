"""DDL of the raw and audit schemas, generated from the contract (identifiers only from code)."""

from __future__ import annotations

import duckdb

from orchestration.contract import FAMILIES, Family

AUDIT_DDL = """
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
    loaded_at timestamp not null
);
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
"""


def raw_columns_ddl(fam: Family) -> str:
    cols = []
    for c in fam.columns:
        if c.personal:
            # Only the keyed hash lands; the loader hashes the clear value as it reads the file.
            cols.append(f"{c.name.removesuffix('_tax_code')}_pseudonym varchar")
        else:
            cols.append(f"{c.name} {c.sql_type}")
    if fam.personal_columns:
        cols.append("key_id varchar")
    cols += [
        "delivery_id bigint not null",
        "delivery_month date not null",
        "_file varchar not null",
        "_row bigint not null",
    ]
    return ",\n    ".join(cols)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)
    for fam in FAMILIES.values():
        con.execute(f"create table if not exists {fam.raw_table} (\n    {raw_columns_ddl(fam)}\n)")
