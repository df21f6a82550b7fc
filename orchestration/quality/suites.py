"""The data-quality suites, built in code from their single sources (never a second copy of them):

- one suite per extract family (`raw_<family>`) from the landing contract (orchestration/contract): columns and
  types, required columns, code domains (the seeds' code lists, through orchestration.ingest.reference), ranges,
  date order and windows, keys, the privacy of pseudonym columns, and the volume against the previous month;
- the plan's own arithmetic (`plan_*`): IEEP items against their printed sections and totals, regional targets
  against national ones, the 2020 IEEP table, the standard-cost annex, doubtful structure placements. A plan
  cannot be corrected by a run, so a failed plan expectation is a *finding* (reported), never a failure.

The marts have no suite here: dbt guarantees them (enforced contracts, generic, singular and unit tests).

Every expectation carries `meta = {id, rule, severity}`: `error` stops the run (blocking Dagster check), `warning`
is shown and does not stop it, `finding` is reported. Queries select key columns only, so a failing-key sample
can never carry a pseudonym or a tax code (the runner also scrubs every sample it stores).

`python -m orchestration.quality.suites --write` writes the suites as JSON into expectations/, for reading and
review; tests/quality checks that the JSON matches this code.
"""

# ruff: noqa: S608 - the queries are composed from contract identifiers, seed codes (quoted by _sql_list) and
# numbers from expectations/config.yml, never from input; GX substitutes only {batch}.
from __future__ import annotations

import csv
import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestration.config import EXPECTATIONS_DIR, ROOT, seeds_dir
from orchestration.contract import FAMILIES
from orchestration.ingest.reference import DOMAINS

SEVERITIES = ("error", "warning", "finding")
REFERENCE_DIR = EXPECTATIONS_DIR / "reference"
# Lineage columns the loader adds to every raw row; the failing-key sample of a raw suite uses them because they
# point at the file row and never carry personal data.
RAW_KEYS = ("delivery_id", "_row")
# A pseudonym is a hex SHA-256 (docs/landing_contract.md, personal data).
PSEUDONYM_PATTERN = "[0-9a-f]{64}"

# The Dagster asset each plan suite checks (raw suites check raw/<family>). Kept apart from the builders so that
# the Dagster definitions can list the checks without importing Great Expectations (a slow import).
PLAN_SUITES: dict[str, tuple[str, ...]] = {
    "plan_ieep_items": ("reference", "ieep_items"),
    "plan_ieep_by_region": ("reference", "ieep_items"),
    "plan_ieep_2020": ("reference", "ieep_items"),
    "plan_targets": ("reference", "kpi_targets"),
    "plan_structures": ("reference", "structures"),
    "plan_standard_costs": ("reference", "kpi_targets"),
}


def suite_catalog() -> list[tuple[str, str, tuple[str, ...]]]:
    """(suite, kind, Dagster asset key) of every suite, without building one."""
    return ([(f"raw_{f}", "raw", ("raw", f)) for f in FAMILIES]
            + [(n, "plan", k) for n, k in PLAN_SUITES.items()])


@functools.cache
def config() -> dict:
    return yaml.safe_load((EXPECTATIONS_DIR / "config.yml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Rule:
    id: str  # stable within the suite: the `expectation` column of audit.dq_results
    rule: str  # the rule family (schema, type, not_null, code_domain, range, date_order, ...)
    severity: str
    expectation: Any  # a GX expectation


@dataclass
class SuiteDef:
    name: str
    kind: str  # raw | mart | plan
    description: str
    asset_key: tuple[str, ...]  # the Dagster asset the suite checks
    table: str | None = None  # schema.table of the batch, or
    query: str | None = None  # a query whose rows are the batch (reference CSVs)
    key_columns: tuple[str, ...] = ()
    rules: list[Rule] = field(default_factory=list)
    family: str | None = None  # raw suites: the batch is the family's current deliveries in scope
    source: str | None = None  # what a query batch reads, for people (a reference file)

    @property
    def asset(self) -> str:
        if self.family:
            return f"raw.{self.family}"
        return self.table or self.source or "/".join(self.asset_key)

    def batch_query(self, months: tuple[str, str] | None = None) -> str | None:
        """The batch of a raw suite: the rows of the family's current deliveries, optionally for a month range.

        A monthly run validates what it loaded, not the whole history again: cost follows the new data.
        """
        if not self.family:
            return self.query
        scope = ""
        if months:
            lo, hi = (f"{m}-01" for m in months)
            if not all(re.fullmatch(r"\d{4}-\d{2}-01", x) for x in (lo, hi)):
                raise ValueError(f"not a month range: {months!r}")
            scope = f" and month between date '{lo}' and date '{hi}'"
        return (f"select * from raw.{self.family} where delivery_id in (select delivery_id "  # noqa: S608
                f"from audit.current_deliveries where family = '{self.family}'{scope})")

    def gx_suite(self):
        import great_expectations as gx

        return gx.ExpectationSuite(name=self.name, expectations=[r.expectation for r in self.rules],
                                   meta={"kind": self.kind, "description": self.description, "asset": self.asset})


def _expect(cls_name: str, rid: str, rule: str, severity: str, description: str, **kwargs) -> Rule:
    import great_expectations.expectations as gxe

    from orchestration.quality.gx_duckdb import apply_duckdb_patch

    apply_duckdb_patch()
    assert severity in SEVERITIES, severity
    gx_severity = {"error": "critical", "warning": "warning", "finding": "info"}[severity]
    exp = getattr(gxe, cls_name)(
        **kwargs,
        meta={"id": rid, "rule": rule, "severity": severity},
        description=description,
        severity=gx_severity,
    )
    return Rule(rid, rule, severity, exp)


def _rows(rid: str, rule: str, severity: str, description: str, query: str) -> Rule:
    """An UnexpectedRowsExpectation: the query returns the offending rows (key columns only)."""
    return _expect("UnexpectedRowsExpectation", rid, rule, severity, description,
                   unexpected_rows_query=" ".join(query.split()))


def _types_rule(expected: list[tuple[str, str]], what: str) -> Rule:
    """Column types as DuckDB reports them (typeof on one row): exact, where SQLAlchemy's reflected names are
    coarse (a DECIMAL(18,2) and a DECIMAL(10,0) are both Numeric) and unavailable on query batches."""
    cols = ", ".join(f"typeof({n}) as {n}" for n, _ in expected)
    values = ", ".join(f"('{n}', '{t.upper()}')" for n, t in expected)
    listed = ", ".join(f"{n} {t.upper()}" for n, t in expected)
    return _rows("type.columns", "type", "error", f"Every column of {what} has its contract type ({listed}).",
                 f"""with t as (select {cols} from {{batch}} limit 1)
                     select column_name, observed from (unpivot t on columns(*) into name column_name value observed)
                     where (column_name, observed) not in (values {values})""")


def _braces(pattern: str) -> str:
    # GX formats the query with str.format: a regex quantifier's braces must be doubled (docs/stack_notes.md §8).
    return pattern.replace("{", "{{").replace("}", "}}")


def _sql_list(values) -> str:
    out = []
    for v in values:
        if not re.fullmatch(r"[A-Za-z0-9_.\- ']+", str(v)):
            raise ValueError(f"not a code: {v!r}")
        out.append("'" + str(v).replace("'", "''") + "'")
    return ", ".join(out)


# --------------------------------------------------------------------------------------------------------------
# Code lists from the seeds (the same lists the loader checks against)
# --------------------------------------------------------------------------------------------------------------


def _read_seed(file: str) -> list[dict[str, str]]:
    with (seeds_dir() / file).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def domain_codes(domain: str, levels: tuple[str, ...] | None = None) -> list[str]:
    file, column, extra = DOMAINS[domain]
    rows = _read_seed(file)
    if domain == "structure" and levels:
        rows = [r for r in rows if r["level"] in levels]
    codes = {r[column] for r in rows if r.get(column)}
    codes |= set(extra)
    if domain == "project":
        # Transversal projects report under their leaf code (docs/decisions.md §11), as the loader accepts.
        codes |= {r["leaf_code"] for r in _read_seed("project_leaf.csv") if r.get("leaf_code")}
    return sorted(codes)


def all_suites(root: Path | None = ROOT) -> list[SuiteDef]:
    from orchestration.quality.suites_plan import plan_suites
    from orchestration.quality.suites_raw import raw_suite

    return [raw_suite(f) for f in FAMILIES.values()] + plan_suites(root)


@functools.cache
def suite_index() -> dict[str, SuiteDef]:
    """Every suite by name, built once per process (each Dagster check needs one; building all takes a while)."""
    return {s.name: s for s in all_suites()}


def suite_json(s: SuiteDef) -> dict:
    """The suite as GX serialises it, minus the random ids, so the file only changes when a rule does."""
    d = s.gx_suite().to_json_dict()
    d.pop("id", None)
    for e in d.get("expectations", []):
        e.pop("id", None)
        e.pop("rendered_content", None)
    d["meta"] = {**d.get("meta", {}), "batch": s.table or s.query, "dagster_asset": "/".join(s.asset_key)}
    d["meta"].pop("great_expectations_version", None)
    return d


def write_json(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    paths = []
    for s in all_suites(root=None):
        p = directory / f"{s.name}.json"
        p.write_text(json.dumps(suite_json(s), indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n",
                     encoding="utf-8")
        paths.append(p)
    return paths


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if "--write" in sys.argv:
        for p in write_json():
            print(p.relative_to(ROOT))
    else:
        for s in all_suites():
            print(f"{s.name:<28} {len(s.rules):>3} expectations  ({s.asset})")
