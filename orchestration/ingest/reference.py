"""Code lists the loader checks against, read from the dbt seeds (one source of truth for reference data)."""

from __future__ import annotations

import duckdb

from orchestration.config import seeds_dir

# domain -> (seed file, code column, extra literal codes)
DOMAINS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "structure": ("structures.csv", "structure_code", ()),
    "product": ("product_catalogue.csv", "product_code", ()),
    "sub_area": ("product_catalogue.csv", "sub_area_code", ("SUPPORT", "REGIONAL_OFFICE")),
    "channel": ("channel_standards.csv", "channel_code", ()),
    "revenue_item": ("ieep_items.csv", "item_code", ()),
    "measure": ("measure_codes.csv", "measure_code", ()),
    "project": ("project_leaf.csv", "project_id", ()),
    "cost_nature": ("cost_natures.csv", "cost_nature", ()),
}


def register_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Create temp table ref_codes(domain, code, level) on the connection from the seed CSVs."""
    con.execute("create or replace temp table ref_codes (domain varchar, code varchar, level varchar)")
    for domain, (file, column, extra) in DOMAINS.items():
        path = seeds_dir() / file
        if not path.exists():
            continue
        # Identifiers come from the DOMAINS table above, never from input; the path is a bound parameter.
        level = "level" if domain == "structure" else "null"
        con.execute(
            f"insert into ref_codes select distinct ?, {column}::varchar, {level} "  # noqa: S608
            f"from read_csv(?, header = true, all_varchar = true) where {column} is not null",
            [domain, str(path)],
        )
        for code in extra:
            con.execute("insert into ref_codes values (?, ?, null)", [domain, code])
    # Transversal projects are reported under their own leaf code (docs/decisions.md §11).
    leaf = seeds_dir() / "project_leaf.csv"
    if leaf.exists():
        con.execute(
            "insert into ref_codes select distinct 'project', leaf_code, null "
            "from read_csv(?, header = true, all_varchar = true) where leaf_code is not null",
            [str(leaf)],
        )
