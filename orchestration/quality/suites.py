"""The data-quality suites, built in code from their single sources (never a second copy of them):

- one suite per extract family (`raw_<family>`) from the landing contract (orchestration/contract): columns and
  types, required columns, code domains (the seeds' code lists, through orchestration.ingest.reference), ranges,
  date order and windows, keys, the privacy of pseudonym columns, and the volume against the previous month;
- one suite per mart (`mart_<model>`) from the dbt contract in dbt_project/models/marts/_marts.yml (columns,
  types, not-null) plus the KPI_SPEC rules: scores within [50, 150], coverage within [0, 1], targets for every
  applicable scored leaf, national = regional entities + central producers for additive quantities, weights;
- the plan's own arithmetic (`plan_*`): IEEP items against their printed sections and totals, regional targets
  against national ones, the 2020 IEEP table, the standard-cost annex, doubtful structure placements. A plan
  cannot be corrected by a run, so a failed plan expectation is a *finding* (reported), never a failure.

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

from orchestration.config import DBT_PROJECT_DIR, EXPECTATIONS_DIR, ROOT, seeds_dir
from orchestration.contract import FAMILIES, Family
from orchestration.contract.families import TAX_CODE_PATTERN, WINDOW_START
from orchestration.ingest.reference import DOMAINS
from orchestration.ingest.schema import raw_columns_ddl

SEVERITIES = ("error", "warning", "finding")
REFERENCE_DIR = EXPECTATIONS_DIR / "reference"
MARTS_YML = DBT_PROJECT_DIR / "models" / "marts" / "_marts.yml"
# Lineage columns the loader adds to every raw row; the failing-key sample of a raw suite uses them because they
# point at the file row and never carry personal data.
RAW_KEYS = ("delivery_id", "_row")
# A pseudonym is a hex SHA-256 (LANDING_CONTRACT, personal data).
PSEUDONYM_PATTERN = "[0-9a-f]{64}"

# The Dagster asset each mart and plan suite checks (raw suites check raw/<family>). Kept apart from the builders so
# that the Dagster definitions can list the checks without importing Great Expectations (a slow import).
MART_SUITES: dict[str, tuple[str, ...]] = {
    "mart_fct_kpi_scores": ("marts", "fct_kpi_scores"),
    "mart_fct_value_pyramid": ("marts", "fct_value_pyramid"),
    "mart_dim_kpi": ("marts", "dim_kpi"),
    "mart_dim_structure": ("marts", "dim_structure"),
    "mart_period_status": ("marts", "period_status"),
}
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
            + [(n, "mart", k) for n, k in MART_SUITES.items()]
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
    # GX formats the query with str.format: a regex quantifier's braces must be doubled (STACK_NOTES G3).
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
        # Transversal projects report under their leaf code (KPI_SPEC 6.1), as the loader accepts.
        codes |= {r["leaf_code"] for r in _read_seed("project_leaf.csv") if r.get("leaf_code")}
    return sorted(codes)


# --------------------------------------------------------------------------------------------------------------
# Extract families (raw)
# --------------------------------------------------------------------------------------------------------------


def raw_columns(fam: Family) -> list[tuple[str, str]]:
    """(name, DuckDB type) of raw.<family>, from the loader's own DDL."""
    out = []
    for line in raw_columns_ddl(fam).split(",\n"):
        parts = line.strip().split()
        out.append((parts[0], parts[1]))
    return out


def raw_suite(fam: Family) -> SuiteDef:
    cfg = config()
    t = fam.name
    cols = raw_columns(fam)
    names = [c for c, _ in cols]
    rules: list[Rule] = []
    rules.append(_expect(
        "ExpectTableColumnsToMatchSet", "schema.columns", "schema", "error",
        f"raw.{t} has exactly the contract's columns (pseudonyms instead of tax codes) and the lineage columns.",
        column_set=names, exact_match=True))
    rules.append(_types_rule(cols, f"raw.{t}"))
    required = [(c.name.removesuffix("_tax_code") + "_pseudonym") if c.personal else c.name
                for c in fam.columns if c.required]
    required += (["key_id"] if fam.personal_columns else []) + ["delivery_id", "delivery_month", "_file", "_row"]
    for name in required:
        rules.append(_expect("ExpectColumnValuesToNotBeNull", f"not_null.{name}", "not_null", "error",
                             f"{name} is never null.", column=name))
    for c in fam.columns:
        if c.values:
            rules.append(_expect("ExpectColumnValuesToBeInSet", f"code_domain.{c.name}", "code_domain", "error",
                                 f"{c.name} is one of {', '.join(c.values)}.", column=c.name,
                                 value_set=list(c.values)))
        elif c.domain:
            codes = domain_codes(c.domain, c.levels)
            where = f" at level {'/'.join(c.levels)}" if c.levels else ""
            seed = DOMAINS[c.domain][0]
            # A semi-join against the list: DuckDB evaluates a long literal IN list far more slowly.
            rules.append(_rows(
                f"code_domain.{c.name}", "code_domain", "error",
                f"{c.name} is a code of seeds/{seed}{where} ({len(codes)} codes).",
                f"select delivery_id, _row, {c.name} as value from {{batch}} where {c.name} is not null "
                f"and {c.name} not in (select unnest([{_sql_list(codes)}]))"))
        if c.min is not None or c.max is not None:
            rules.append(_expect("ExpectColumnValuesToBeBetween", f"range.{c.name}", "range", "error",
                                 f"{c.name} lies within [{c.min}, {c.max}].", column=c.name,
                                 min_value=c.min, max_value=c.max))
        if c.window:
            hi = "(delivery_month + interval 1 month)"
            lo = f"date '{WINDOW_START.isoformat()}'"
            if c.type == "timestamp":
                hi, lo = f"{hi}::timestamp", f"{lo}::timestamp"
            rules.append(_rows(
                f"date_window.{c.name}", "date_window", "error",
                f"{c.name} lies between {WINDOW_START.isoformat()} and the end of the delivery month.",
                f"select delivery_id, _row from {{batch}} where {c.name} is not null "
                f"and ({c.name} < {lo} or {c.name} >= {hi})"))
    for a, b in fam.date_order:
        rules.append(_expect("ExpectColumnPairValuesAToBeGreaterThanB", f"date_order.{a}.{b}", "date_order", "error",
                             f"{a} <= {b} when both are present.", column_A=b, column_B=a, or_equal=True,
                             ignore_row_if="either_value_is_missing"))
    if fam.month_column:
        m = fam.month_column
        rules.append(_rows(f"delivery_month.{m}", "date_window", "error",
                           f"{m} lies in the delivery month named by the file.",
                           f"select delivery_id, _row from {{batch}} "
                           f"where date_trunc('month', {m})::date <> delivery_month"))
    if fam.key:
        rules.append(_expect("ExpectCompoundColumnsToBeUnique", "key.unique_in_delivery", "key", "error",
                             f"({', '.join(fam.key)}) is unique within a delivery.",
                             column_list=["delivery_id", *fam.key]))
    if "outcome_requires_defined_on" in fam.extra_rules:
        rules.append(_rows("consistency.outcome_defined_on", "consistency", "error",
                           "A practice has an outcome exactly when it has a definition date.",
                           "select delivery_id, _row from {batch} where (outcome is null) <> (defined_on is null)"))
    if "smart_within_headcount" in fam.extra_rules:
        rules.append(_rows("consistency.smart_within_headcount", "consistency", "error",
                           "Smart workers never exceed the headcount.",
                           "select delivery_id, _row from {batch} where smart_workers > headcount"))
    for c in fam.personal_columns:
        p = c.name.removesuffix("_tax_code") + "_pseudonym"
        rules.append(_rows(f"privacy.{p}_format", "privacy", "error",
                           f"{p} is a keyed SHA-256 (64 hex digits): the tax code never lands in clear. "
                           "Checked for format only; the value is never sampled.",
                           f"select delivery_id, _row from {{batch}} "
                           f"where not regexp_full_match({p}, '{_braces(PSEUDONYM_PATTERN)}')"))
    # Identifiers and free text: code columns are already held to their code lists, which no tax code is in.
    text_cols = [c.name for c in fam.columns if c.type == "str" and not (c.domain or c.values or c.personal)]
    if text_cols:
        unions = " union all ".join(
            f"select delivery_id, _row, '{n}' as column_name from {{batch}} "
            f"where regexp_matches({n}, '{_braces(TAX_CODE_PATTERN)}')" for n in text_cols)
        rules.append(_rows("privacy.no_tax_code_in_clear", "privacy", "error",
                           "No text column holds anything shaped like a tax code (only the row is named).", unions))
    band = cfg["volume_ratio"].get(t, cfg["volume_ratio"]["default"])
    if band is not None and fam.month_column:
        lo, hi = (float(x) for x in band)
        skip_opening = "and prev.month > (select min(month) from per_month)" if fam.stateful else ""
        # Row counts come from the ledger (rows accepted per delivery), so the previous month need not be in scope.
        rules.append(_rows(
            "volume.vs_previous_month", "volume", "warning",
            f"Each month's current delivery has between {lo:g} and {hi:g} times the rows of the previous month's"
            + (" (the opening file is not compared)." if fam.stateful else "."),
            f"""with per_month as (
                    select c.month, l.rows_accepted as rows_delivered
                    from audit.current_deliveries as c
                    inner join audit.load_ledger as l on c.delivery_id = l.delivery_id
                    where c.family = '{t}'),
                in_scope as (select distinct delivery_month as month from {{batch}})
                select cur.month, cur.rows_delivered, prev.rows_delivered as previous_rows
                from in_scope as s
                inner join per_month as cur on cur.month = s.month
                inner join per_month as prev on prev.month = cur.month - interval 1 month {skip_opening}
                where cur.rows_delivered < {lo!r} * prev.rows_delivered
                   or cur.rows_delivered > {hi!r} * prev.rows_delivered"""))
    suite = SuiteDef(
        name=f"raw_{t}", kind="raw", asset_key=("raw", t), key_columns=RAW_KEYS, family=t,
        description=f"Extract family {t}: {fam.description}", rules=rules)
    suite.query = suite.batch_query()
    return suite


# --------------------------------------------------------------------------------------------------------------
# Marts
# --------------------------------------------------------------------------------------------------------------


@functools.cache
def mart_contracts() -> dict[str, list[dict]]:
    """Columns of each mart from its enforced dbt contract (name, data_type, constraints)."""
    doc = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))
    return {m["name"]: m.get("columns", []) for m in doc.get("models", [])}


def _contract_rules(model: str) -> list[Rule]:
    cols = mart_contracts()[model]
    rules = [_expect("ExpectTableColumnsToMatchSet", "schema.columns", "schema", "error",
                     f"marts.{model} has exactly the columns of its dbt contract.",
                     column_set=[c["name"] for c in cols], exact_match=True)]
    rules.append(_types_rule([(c["name"], c["data_type"]) for c in cols], f"marts.{model}"))
    for c in cols:
        if any(k.get("type") == "not_null" for k in c.get("constraints", [])):
            rules.append(_expect("ExpectColumnValuesToNotBeNull", f"not_null.{c['name']}", "not_null", "error",
                                 f"{c['name']} is never null.", column=c["name"]))
    return rules


def _national() -> str:
    return "(select structure_code from marts.dim_structure where level = 'national')"


def mart_suites() -> list[SuiteDef]:
    cfg = config()
    tol = float(cfg["float_relative_tolerance"])
    years = ", ".join(str(int(y)) for y in cfg["complete_target_years"])
    out: list[SuiteDef] = []

    r = _contract_rules("fct_kpi_scores")
    r += [
        _expect("ExpectCompoundColumnsToBeUnique", "key.unique", "key", "error",
                "One row per month-end, structure and KPI.", column_list=["period_end", "structure_code", "kpi_code"]),
        _expect("ExpectColumnValuesToBeBetween", "score_range.score", "score_range", "error",
                "Every score lies within [50, 150] (KPI_SPEC 2: deviation capped at ±50 %).",
                column="score", min_value=50, max_value=150),
        _expect("ExpectColumnValuesToBeBetween", "coverage.weight_coverage", "coverage", "error",
                "weight_coverage lies within [0, 1].", column="weight_coverage", min_value=0, max_value=1),
        _expect("ExpectColumnValuesToBeInSet", "code_domain.node_kind", "code_domain", "error",
                "node_kind is leaf, composite, part or reported.", column="node_kind",
                value_set=["leaf", "composite", "part", "reported"]),
        _expect("ExpectColumnValuesToBeInSet", "code_domain.polarity", "code_domain", "error",
                "polarity is +1 or -1.", column="polarity", value_set=[1, -1]),
        _rows("referential.kpi_and_structure", "referential", "error",
              "Every row names a node of dim_kpi and a structure of dim_structure.",
              """select f.period_end, f.structure_code, f.kpi_code from (select * from {batch}) as f
                 where f.kpi_code not in (select node_code from marts.dim_kpi)
                    or f.structure_code not in (select structure_code from marts.dim_structure)"""),
        _rows("targets.present_for_scored_leaves", "targets", "error",
              f"Every applicable scored leaf and composite has a target at every month-end of {years} "
              "(the years the plan gives complete targets for, expectations/config.yml).",
              f"""select f.period_end, f.structure_code, f.kpi_code from (select * from {{batch}}) as f
                  where year(f.period_end) in ({years}) and f.node_kind in ('leaf', 'composite')
                    and f.target_value is null"""),
        _rows("reconciliation.regions_sum_to_national", "reconciliation", "error",
              "For additive quantities (expectations/config.yml), the national numerator and denominator equal "
              "the sum over the regional entities and the central producers (KPI_SPEC 3).",
              f"""with nat as (
                      select period_end, kpi_code, numerator, denominator from {{batch}}
                      where structure_code in {_national()}
                        and kpi_code in ({_sql_list(cfg['additive_quantities'])})),
                  parts as (
                      select a.period_end, a.quantity_code, sum(a.numerator) as numerator,
                          sum(a.denominator) as denominator
                      from intermediate.int_kpi_actuals as a
                      inner join marts.dim_structure as s on a.structure_code = s.structure_code
                      where s.level in ('regional', 'central')
                      group by a.period_end, a.quantity_code)
                  select n.period_end, n.kpi_code from nat as n
                  left join parts as p on n.period_end = p.period_end and n.kpi_code = p.quantity_code
                  where abs(coalesce(n.numerator, 0) - coalesce(p.numerator, 0))
                          > {tol!r} * greatest(1, abs(coalesce(p.numerator, 0)))
                     or abs(coalesce(n.denominator, 0) - coalesce(p.denominator, 0))
                          > {tol!r} * greatest(1, abs(coalesce(p.denominator, 0)))"""),
    ]
    out.append(SuiteDef("mart_fct_kpi_scores", "mart", "KPI scores at every month-end, structure and KPI.",
                        MART_SUITES["mart_fct_kpi_scores"], table="marts.fct_kpi_scores",
                        key_columns=("period_end", "structure_code", "kpi_code"), rules=r))

    r = _contract_rules("fct_value_pyramid")
    r += [
        _expect("ExpectCompoundColumnsToBeUnique", "key.unique", "key", "error",
                "One row per month-end, structure and node.",
                column_list=["period_end", "structure_code", "node_code"]),
        _expect("ExpectColumnValuesToBeBetween", "score_range.score", "score_range", "error",
                "Every node score lies within [50, 150].", column="score", min_value=50, max_value=150),
        _expect("ExpectColumnValuesToBeBetween", "coverage.weight_coverage", "coverage", "error",
                "weight_coverage lies within [0, 1].", column="weight_coverage", min_value=0, max_value=1),
        _rows("weights.children_within_one", "weights", "error",
              "The weights of a node's children present at a structure sum to at most 1 (to 1 when all apply).",
              f"""select period_end, structure_code, parent_code from {{batch}} where parent_code is not null
                  group by period_end, structure_code, parent_code having sum(weight) > 1 + {tol!r}"""),
        _rows("completeness.vpi_every_month_end", "completeness", "error",
              "The national VPI exists at every month-end that has KPI scores.",
              f"""select distinct s.period_end from marts.fct_kpi_scores as s
                  where s.structure_code in {_national()} and not exists (
                      select 1 from (select * from {{batch}}) as p where p.period_end = s.period_end
                        and p.structure_code = s.structure_code and p.parent_code is null
                        and p.node_kind = 'root')"""),
    ]
    out.append(SuiteDef("mart_fct_value_pyramid", "mart", "The scored tree at every month-end and structure.",
                        MART_SUITES["mart_fct_value_pyramid"], table="marts.fct_value_pyramid",
                        key_columns=("period_end", "structure_code", "node_code"), rules=r))

    r = _contract_rules("dim_kpi")
    r += [
        _expect("ExpectColumnValuesToBeUnique", "key.unique", "key", "error", "node_code is unique.",
                column="node_code"),
        _expect("ExpectColumnValuesToBeInSet", "code_domain.polarity", "code_domain", "error",
                "polarity is +1 or -1.", column="polarity", value_set=[1, -1]),
        _expect("ExpectColumnValuesToBeBetween", "range.cap_high", "range", "error",
                "cap_high lies within [0, 1].", column="cap_high", min_value=0, max_value=1),
        _rows("referential.parent_exists", "referential", "error", "Every parent_code is a node.",
              """select node_code from {batch}
                 where parent_code is not null and parent_code not in (select node_code from {batch})"""),
        _rows("weights.sum_to_one", "weights", "error",
              "The national weights of a node's weighted children sum to 1.",
              f"""select parent_code from {{batch}} where weight is not null and parent_code is not null
                  group by parent_code having abs(sum(weight) - 1) > {tol!r}"""),
        _rows("weights.perspectives_sum_to_one", "weights", "error",
              "The per-level weights of seeds/perspective_weights.csv sum to 1 under each parent and level.",
              f"""select w.level, w.parent_code from reference.perspective_weights as w
                  where w.parent_code in (select node_code from {{batch}})
                  group by w.level, w.parent_code having abs(sum(w.weight) - 1) > {tol!r}"""),
    ]
    out.append(SuiteDef("mart_dim_kpi", "mart", "The node tree of the pyramid.", MART_SUITES["mart_dim_kpi"],
                        table="marts.dim_kpi", key_columns=("node_code",), rules=r))

    r = _contract_rules("dim_structure")
    r += [
        _expect("ExpectColumnValuesToBeUnique", "key.unique", "key", "error", "structure_code is unique.",
                column="structure_code"),
        _expect("ExpectColumnValuesToBeInSet", "code_domain.level", "code_domain", "error",
                "level is national, regional, provincial or central.", column="level",
                value_set=["national", "regional", "provincial", "central"]),
        _rows("referential.parent_exists", "referential", "error",
              "Every parent is a structure, and exactly one structure (the nation) has none.",
              """select structure_code from {batch}
                 where (parent_code is not null and parent_code not in (select structure_code from {batch}))
                    or (parent_code is null and level <> 'national')"""),
        _rows("referential.regional_entity", "referential", "error",
              "A production structure's regional entity is a regional structure.",
              """select s.structure_code from (select * from {batch}) as s
                 left join (select * from {batch}) as r on s.regional_entity_code = r.structure_code
                 where s.level = 'provincial' and (r.level is null or r.level <> 'regional')"""),
    ]
    out.append(SuiteDef("mart_dim_structure", "mart", "The structure tree.", MART_SUITES["mart_dim_structure"],
                        table="marts.dim_structure", key_columns=("structure_code",), rules=r))

    r = _contract_rules("period_status")
    r += [
        _expect("ExpectColumnValuesToBeUnique", "key.unique", "key", "error", "One row per month.", column="month"),
        _expect("ExpectColumnValuesToBeBetween", "coverage.vpi_weight_coverage", "coverage", "error",
                "vpi_weight_coverage lies within [0, 1].", column="vpi_weight_coverage", min_value=0, max_value=1),
        _rows("completeness.months_contiguous", "completeness", "error",
              "Every month from the opening month to the latest delivery has a row.",
              """select min(month) as first_month, max(month) as last_month, count(*) as months from {batch}
                 having count(*) <> date_diff('month', min(month), max(month)) + 1"""),
        _rows("consistency.families", "consistency", "error",
              "A month never has more delivered families than are known.",
              "select month from {batch} where families_delivered > families_known"),
        _rows("coverage.vpi_complete", "coverage", "warning",
              f"Every month-end of {years} has the VPI fully backed by data (weight_coverage = 1); a lower value "
              "names a missing or late extract.",
              f"""select month, vpi_weight_coverage from {{batch}}
                  where year(month) in ({years}) and coalesce(vpi_weight_coverage, 0) < 1 - {tol!r}"""),
    ]
    out.append(SuiteDef("mart_period_status", "mart", "Delivery and coverage status per month.",
                        MART_SUITES["mart_period_status"], table="marts.period_status", key_columns=("month",),
                        rules=r))
    return out


# --------------------------------------------------------------------------------------------------------------
# The plan's own arithmetic (findings)
# --------------------------------------------------------------------------------------------------------------


def _csv(name: str, root: Path | None) -> str:
    """read_csv of a reference file: absolute when validating, relative to the repository in the JSON."""
    path = REFERENCE_DIR / name
    shown = path.relative_to(ROOT).as_posix() if root is None else path.as_posix()
    shown = shown.replace("'", "''")  # a string literal: the repository's path may hold a quote
    return f"read_csv('{shown}', header = true)"


def _hierarchy_sql(tol: float, *, within: bool, table: str, value: str, group: str | None) -> str:
    """Items against the signed sum of their children: beyond the tolerance, or inside it but not exact."""
    g_sel = f"p.{group}, " if group else ""
    g_out = f"{group}, " if group else ""
    on = f" and c.{group} = p.{group}" if group else ""
    cond = f"abs(diff) > {tol!r}" if not within else f"abs(diff) > 0 and abs(diff) <= {tol!r}"
    return f"""with sums as (
                   select {g_sel}p.item_code, any_value(p.{value}) as printed,
                       sum(c.sign_in_parent * c.{value}) as components,
                       any_value(p.{value}) - sum(c.sign_in_parent * c.{value}) as diff
                   from {table} as p inner join {table} as c on c.parent_item_code = p.item_code{on}
                   group by {g_sel}p.item_code)
               select {g_out}item_code, printed, components, diff from sums where {cond}"""


B = "(select * from {batch})"  # the batch as a derived table, so that it can take an alias


def plan_suites(root: Path | None = ROOT) -> list[SuiteDef]:
    cfg = config()
    tol = float(cfg["reconciliation_tolerance_eur"])
    out: list[SuiteDef] = []

    r = [
        _rows("reconciliation.items_sum_to_parent", "reconciliation", "finding",
              f"Each IEEP item equals the signed sum of its sub-items, sections and total included, within "
              f"±{tol:g} EUR (seeds/ieep_items.csv, plan L7951-8005).",
              _hierarchy_sql(tol, within=False, table=B, value="national_target_2021_eur", group=None)),
        _rows("reconciliation.items_rounding", "reconciliation", "finding",
              f"IEEP items whose sub-items sum to within ±{tol:g} EUR but not exactly (the plan's rounding).",
              _hierarchy_sql(tol, within=True, table=B, value="national_target_2021_eur", group=None)),
        _rows("reconciliation.sections_match_targets", "reconciliation", "finding",
              "The IEEP section subtotals equal the national 2021 targets of IEEP.ENTRATE and IEEP.PRESTAZIONI "
              f"(seeds/kpi_targets.csv) within ±{tol:g} EUR.",
              f"""select i.item_code, i.national_target_2021_eur, t.target_value from (select * from {{batch}}) as i
                  inner join reference.kpi_targets as t
                    on t.year = 2021
                   and t.structure_code in (select structure_code from reference.structures where level = 'national')
                   and t.node_code = case i.section when 'contribution_revenue' then 'IEEP.ENTRATE'
                                                    when 'benefits' then 'IEEP.PRESTAZIONI' end
                  where i.item_level = 1 and abs(i.national_target_2021_eur - t.target_value) > {tol!r}"""),
    ]
    out.append(SuiteDef("plan_ieep_items", "plan", "The plan's national IEEP table (seeds/ieep_items.csv).",
                        PLAN_SUITES["plan_ieep_items"], table="reference.ieep_items",
                        key_columns=("item_code",), rules=r))

    q = f"select * from {_csv('ieep_targets_by_region.csv', root)}"
    r = [
        _rows("reconciliation.items_sum_to_parent", "reconciliation", "finding",
              f"For the nation and each regional entity, each IEEP item equals the signed sum of its sub-items "
              f"within ±{tol:g} EUR (Tabella B, L7949-8305).",
              _hierarchy_sql(tol, within=False, table=B, value="target_2021_eur", group="structure_code")),
        _rows("reconciliation.items_rounding", "reconciliation", "finding",
              f"Items whose sub-items sum to within ±{tol:g} EUR but not exactly (the plan's rounding).",
              _hierarchy_sql(tol, within=True, table=B, value="target_2021_eur", group="structure_code")),
        _rows("reconciliation.regions_sum_to_national", "reconciliation", "finding",
              f"Each item's regional targets sum to the national target within ±{tol:g} EUR.",
              f"""select n.item_code, any_value(n.target_2021_eur) as national, sum(r.target_2021_eur) as regions
                  from (select * from {{batch}}) as n inner join (select * from {{batch}}) as r
                    on r.item_code = n.item_code and r.structure_code <> n.structure_code
                  where n.structure_type = 'national'
                  group by n.item_code having abs(any_value(n.target_2021_eur) - sum(r.target_2021_eur)) > {tol!r}"""),
        _rows("reconciliation.regions_rounding", "reconciliation", "finding",
              f"Items whose regional targets sum to within ±{tol:g} EUR of the national target but not exactly.",
              f"""select n.item_code, any_value(n.target_2021_eur) as national, sum(r.target_2021_eur) as regions
                  from (select * from {{batch}}) as n inner join (select * from {{batch}}) as r
                    on r.item_code = n.item_code and r.structure_code <> n.structure_code
                  where n.structure_type = 'national'
                  group by n.item_code
                  having abs(any_value(n.target_2021_eur) - sum(r.target_2021_eur)) between 1e-9 and {tol!r}"""),
    ]
    out.append(SuiteDef("plan_ieep_by_region", "plan",
                        "The plan's IEEP targets by item and regional entity (expectations/reference).",
                        PLAN_SUITES["plan_ieep_by_region"], query=q,
                        source="expectations/reference/ieep_targets_by_region.csv",
                        key_columns=("structure_code", "item_code"), rules=r))

    q = f"select * from {_csv('ieep_results_2020.csv', root)}"
    r = []
    for measure in ("target_2020_eur", "actual_2020_eur"):
        label = measure.split("_")[0]
        r.append(_rows(
            f"reconciliation.{label}_sum_to_parent", "reconciliation", "finding",
            f"Each IEEP 2020 {label} equals the signed sum of its components within ±{tol:g} EUR "
            "(plan L1265-1363).",
            _hierarchy_sql(tol, within=False, table=B, value=measure, group=None)))
    out.append(SuiteDef("plan_ieep_2020", "plan", "The plan's IEEP 2020 results table (expectations/reference).",
                        PLAN_SUITES["plan_ieep_2020"], query=q,
                        source="expectations/reference/ieep_results_2020.csv", key_columns=("item_code",), rules=r))

    r = [
        _rows("reconciliation.regional_targets_sum_to_national", "reconciliation", "finding",
              f"For additive targets (period basis ytd_flow, amounts not achievements), the regional entities' "
              f"and central producers' targets sum to the national target within ±{tol:g}.",
              f"""with t as (
                      select t.node_code, t.year, s.level, t.target_value from (select * from {{batch}}) as t
                      inner join reference.structures as s on t.structure_code = s.structure_code
                      inner join reference.kpi_nodes as k on t.node_code = k.node_code
                      where k.period_basis = 'ytd_flow' and k.unit <> 'achievement')
                  select node_code, year, sum(target_value) filter (where level = 'national') as national,
                      sum(target_value) filter (where level in ('regional', 'central')) as regions
                  from t group by node_code, year
                  having count(*) filter (where level in ('regional', 'central')) > 0
                     and abs(national - regions) > {tol!r}"""),
        _rows("reconciliation.regional_targets_rounding", "reconciliation", "finding",
              f"Additive targets whose regional sum is within ±{tol:g} of the national target but not exact.",
              f"""with t as (
                      select t.node_code, t.year, s.level, t.target_value from (select * from {{batch}}) as t
                      inner join reference.structures as s on t.structure_code = s.structure_code
                      inner join reference.kpi_nodes as k on t.node_code = k.node_code
                      where k.period_basis = 'ytd_flow' and k.unit <> 'achievement')
                  select node_code, year, sum(target_value) filter (where level = 'national') as national,
                      sum(target_value) filter (where level in ('regional', 'central')) as regions
                  from t group by node_code, year
                  having count(*) filter (where level in ('regional', 'central')) > 0
                     and abs(national - regions) between 1e-9 and {tol!r}"""),
        _rows("targets.no_zero_on_scored_leaf", "targets", "error",
              "No scored leaf has a zero target (KPI_SPEC 2: a configuration error, never a plan finding).",
              """select t.node_code, t.structure_code, t.year from (select * from {batch}) as t
                 inner join reference.kpi_nodes as k on t.node_code = k.node_code
                 where k.kind in ('leaf', 'composite') and t.target_value = 0"""),
    ]
    out.append(SuiteDef("plan_targets", "plan", "The plan's targets (seeds/kpi_targets.csv).",
                        PLAN_SUITES["plan_targets"], table="reference.kpi_targets",
                        key_columns=("node_code", "structure_code", "year"), rules=r))

    r = [
        _rows("placement.uncertain_parent", "placement", "finding",
              "Structures the seed marks as printed under a doubtful parent (e.g. a town listed under another "
              "region's block): the roll-up follows the plan as printed.",
              """select structure_code, parent_code, plan_line from {batch}
                 where note ilike 'UNCERTAIN PARENT%'"""),
        _rows("referential.parent_exists", "referential", "error", "Every parent is a structure.",
              """select structure_code from {batch}
                 where parent_code is not null and parent_code not in (select structure_code from {batch})"""),
    ]
    out.append(SuiteDef("plan_structures", "plan", "The plan's structure tree (seeds/structures.csv).",
                        PLAN_SUITES["plan_structures"], table="reference.structures",
                        key_columns=("structure_code",), rules=r))

    q = f"select * from {_csv('standard_costs_by_cluster.csv', root)}"
    lo, hi = (float(x) for x in cfg["standard_cost_ratio_band"])
    r = []
    for cur, avg in cfg["standard_cost_pairs"]["three_year_average"]:
        r.append(_rows(
            f"plausibility.{cur}_vs_3y", "plausibility", "finding",
            f"{cur} lies within {lo:g}-{hi:g} times its three-year average {avg} (plan L8312-8499).",
            f"""select a.structure_code, a.value_budget_2021 as this_year, b.value_budget_2021 as three_year,
                    a.seed_line from (select * from {{batch}}) as a
                inner join (select * from {{batch}}) as b on a.structure_code = b.structure_code
                where a.indicator_code = '{cur}' and b.indicator_code = '{avg}'
                  and (a.value_budget_2021 < {lo!r} * b.value_budget_2021
                       or a.value_budget_2021 > {hi!r} * b.value_budget_2021)"""))
    for trend, level in cfg["standard_cost_pairs"]["trend_equals_level"]:
        r.append(_rows(
            f"plausibility.{trend}_differs_from_level", "plausibility", "finding",
            f"{trend} (an index) differs from {level} (an amount): equal values suggest a copy error.",
            f"""select a.structure_code, a.value_budget_2021 as trend, b.value_budget_2021 as level, a.seed_line
                from (select * from {{batch}}) as a
                inner join (select * from {{batch}}) as b on a.structure_code = b.structure_code
                where a.indicator_code = '{trend}' and b.indicator_code = '{level}'
                  and a.value_budget_2021 = b.value_budget_2021"""))
    out.append(SuiteDef("plan_standard_costs", "plan",
                        "The plan's standard-cost annex by regional entity (expectations/reference).",
                        PLAN_SUITES["plan_standard_costs"], query=q,
                        source="expectations/reference/standard_costs_by_cluster.csv",
                        key_columns=("structure_code",), rules=r))
    return out


def all_suites(root: Path | None = ROOT) -> list[SuiteDef]:
    return [raw_suite(f) for f in FAMILIES.values()] + mart_suites() + plan_suites(root)


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
        p.write_text(json.dumps(suite_json(s), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        paths.append(p)
    return paths


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if "--write" in sys.argv:
        for p in write_json():
            print(p.relative_to(ROOT))
    else:
        for s in all_suites():
            print(f"{s.name:<28} {len(s.rules):>3} expectations  ({s.asset})")
