"""The landing contract in code: one definition of the eight extract families.

The generator writes these columns, the loader validates against them, and the data-quality suites read
them. Rule ids are fixed so that tests and auditors can rely on exact outcomes (docs/decisions.md §15).
"""

from orchestration.contract.families import (
    FAMILIES,
    FILE_NAME_RE,
    RULE_IDS,
    Column,
    Family,
    family,
    parse_file_name,
)

__all__ = ["FAMILIES", "FILE_NAME_RE", "RULE_IDS", "Column", "Family", "family", "parse_file_name"]
