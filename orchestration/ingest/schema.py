"""DDL of the raw schema, generated from the contract (identifiers only from code); the ledger's is in
orchestration/warehouse/sql/audit_load.sql."""

from __future__ import annotations

import duckdb

from orchestration.contract import FAMILIES, Family
from orchestration.warehouse import ddl


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
    ddl.apply(con, "audit_load")
    for fam in FAMILIES.values():
        con.execute(f"create table if not exists {fam.raw_table} (\n    {raw_columns_ddl(fam)}\n)")
    # dbt reads the tables Python writes as sources: a loaded warehouse has them all.
    ddl.apply_all(con)
