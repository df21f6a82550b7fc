"""Validate suites against the warehouse (read-only), keep the results, and persist them to audit.dq_results.

Memory stays bounded at national scale: every expectation runs as SQL inside DuckDB (GX's SQL engine with the
persisted-connection fix), and only counts plus at most `failing_key_sample` key tuples per expectation come back
to Python. Row-query expectations return key columns only; column expectations name the failing rows by their
lineage or business keys. Before anything is stored or rendered, every string is scrubbed of tax-code and
pseudonym shapes, so no artefact of a run can carry personal data.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from orchestration.contract.families import TAX_CODE_PATTERN
from orchestration.quality.gx_duckdb import new_context, open_warehouse
from orchestration.quality.suites import SuiteDef, config
from orchestration.warehouse import ddl

_PRIVATE = (re.compile(TAX_CODE_PATTERN), re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])"))
REDACTED = "<redacted>"
ROWS_EXPECTATION = "UnexpectedRowsExpectation"



def scrub(obj: Any) -> Any:
    """Replace anything shaped like a tax code or a pseudonym, at any depth."""
    if isinstance(obj, str):
        for pat in _PRIVATE:
            obj = pat.sub(REDACTED, obj)
        return obj
    if isinstance(obj, dict):
        return {k: scrub(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub(v) for v in obj]
    return obj


def _plain(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


@dataclass
class ResultRow:
    """One row of audit.dq_results."""

    run_id: str
    suite: str
    expectation: str
    rule: str
    asset: str
    partition: str | None
    success: bool
    severity: str
    unexpected_count: int | None
    element_count: int | None
    failing_keys: str | None  # JSON list of key tuples, never personal data
    observed_value: str | None
    description: str
    checked_at: datetime

    @property
    def is_error(self) -> bool:
        return not self.success and self.severity == "error"

    @property
    def is_warning(self) -> bool:
        return not self.success and self.severity == "warning"

    @property
    def is_finding(self) -> bool:
        return not self.success and self.severity == "finding"


@dataclass
class SuiteOutcome:
    suite: str
    kind: str
    asset: str
    asset_key: tuple[str, ...]
    rows: list[ResultRow] = field(default_factory=list)
    seconds: float = 0.0
    gx_result: dict | None = None  # the scrubbed GX validation result, for Data Docs

    @property
    def errors(self) -> list[ResultRow]:
        return [r for r in self.rows if r.is_error]

    @property
    def warnings(self) -> list[ResultRow]:
        return [r for r in self.rows if r.is_warning]

    @property
    def findings(self) -> list[ResultRow]:
        return [r for r in self.rows if r.is_finding]

    def to_json(self) -> str:
        d = asdict(self)
        for r in d["rows"]:
            r["checked_at"] = r["checked_at"].isoformat()
        return json.dumps(d, default=str)

    @classmethod
    def from_json(cls, text: str) -> SuiteOutcome:
        d = json.loads(text)
        rows = [ResultRow(**{**r, "checked_at": datetime.fromisoformat(r["checked_at"])}) for r in d.pop("rows")]
        d["asset_key"] = tuple(d["asset_key"])
        return cls(rows=rows, **d)


# --------------------------------------------------------------------------------------------------------------
# From a GX result to dq_results rows
# --------------------------------------------------------------------------------------------------------------


def _exception_message(info: dict | None) -> str | None:
    if not info:
        return None
    if "exception_message" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for v in info.values():  # metric errors are keyed by metric id
        if isinstance(v, dict) and v.get("exception_message"):
            return v["exception_message"]
    return None


def _keys_from(res: dict, key_columns: tuple[str, ...], sample: int) -> list:
    rows = res.get("details", {}).get("unexpected_rows") if isinstance(res.get("details"), dict) else None
    if rows:
        # Row queries select key columns only (suites.py), so the whole row is the key.
        return [{k: _plain(v) for k, v in dict(r).items()} for r in rows[:sample]]
    idx = res.get("partial_unexpected_index_list") or []
    return [{k: _plain(r.get(k)) for k in key_columns if k in r} for r in idx[:sample] if isinstance(r, dict)]


def _observed(exp_type: str, column: str | None, res: dict, unexpected: int | None, total: int | None) -> str | None:
    if exp_type == "ExpectTableColumnsToMatchSet":
        mism = (res.get("details") or {}).get("mismatched") or {}
        parts = [f"{k}: {', '.join(map(str, v))}" for k, v in sorted(mism.items()) if v]
        return "; ".join(parts) or "columns match"
    if exp_type == ROWS_EXPECTATION:
        return None  # the count is unexpected_count; the rows themselves are the failing keys
    obs = res.get("observed_value")
    if unexpected is not None and total is not None:
        text = f"{unexpected:,} of {total:,} rows"
        counts = res.get("partial_unexpected_counts") or []
        # Values are shown for code and range columns only; pseudonym columns are checked for format only.
        if counts and column and not column.endswith("_pseudonym"):
            text += "; values: " + ", ".join(f"{_plain(c.get('value'))} ({c.get('count')})" for c in counts[:5])
        return text
    if obs is not None:
        return str(_plain(obs))[:500]
    return None


def _to_rows(sd: SuiteDef, results: list, run_id: str, partition: str | None, checked_at: datetime,
             sample: int) -> list[ResultRow]:
    rows = []
    for r in results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        res = scrub(dict(r.result or {}))
        exp_type = type_name(cfg)
        unexpected = res.get("unexpected_count")
        if unexpected is None and exp_type == ROWS_EXPECTATION and isinstance(res.get("observed_value"), int):
            unexpected = res["observed_value"]
        if exp_type == "ExpectTableColumnsToMatchSet":
            mism = (res.get("details") or {}).get("mismatched") or {}
            unexpected = sum(len(v or []) for v in mism.values())
        total = res.get("element_count")
        error = _exception_message(r.exception_info)
        observed = _observed(exp_type, cfg.kwargs.get("column"), res, unexpected, total)
        if error:
            observed = scrub(f"could not evaluate: {error}")[:500]
        keys = _keys_from(res, sd.key_columns, sample)
        rows.append(ResultRow(
            run_id=run_id, suite=sd.name, expectation=meta.get("id", exp_type), rule=meta.get("rule", ""),
            asset=sd.asset, partition=partition, success=bool(r.success), severity=meta.get("severity", "error"),
            unexpected_count=unexpected, element_count=total,
            failing_keys=json.dumps(scrub(keys), default=str) if keys else None,
            observed_value=observed, description=cfg.description or "", checked_at=checked_at))
    return rows


def type_name(cfg) -> str:
    """The expectation's class name (GX stores the snake_case type in the configuration)."""
    t = cfg.type
    return "".join(p.capitalize() for p in t.split("_")) if "_" in t else t


# --------------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------------


def existing_tables(warehouse: Path) -> set[str]:
    """schema.table names present, through a short read-only connection closed before GX opens its own (D7)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
    finally:
        con.close()


def _missing_outcome(sd: SuiteDef, run_id: str, partition: str | None, checked_at: datetime,
                     message: str) -> SuiteOutcome:
    row = ResultRow(run_id=run_id, suite=sd.name, expectation="table.exists", rule="schema", asset=sd.asset,
                    partition=partition, success=False, severity="error", unexpected_count=None,
                    element_count=None, failing_keys=None, observed_value=scrub(message)[:500],
                    description=f"{sd.asset} exists and can be read.", checked_at=checked_at)
    return SuiteOutcome(sd.name, sd.kind, sd.asset, sd.asset_key, [row])


def partition_label(months: tuple[str, str] | None) -> str | None:
    if not months:
        return None
    return months[0] if months[0] == months[1] else f"{months[0]}..{months[1]}"


def validate(warehouse: Path, suite_defs: list[SuiteDef], run_id: str, months: tuple[str, str] | None = None,
             keep_gx: bool = True) -> list[SuiteOutcome]:
    """Run the suites against the warehouse file, read-only; the file lock is released on return.

    `months` ('YYYY-MM', 'YYYY-MM') limits the extract suites to the deliveries of those months (a monthly run
    validates what it loaded); the marts and the plan are always validated whole.
    """
    import great_expectations as gx

    sample = int(config()["failing_key_sample"])
    partition = partition_label(months)
    warehouse = Path(warehouse)
    tables = existing_tables(warehouse)
    outcomes: list[SuiteOutcome] = []
    context = new_context()
    with open_warehouse(context, warehouse) as ds:
        for sd in suite_defs:
            t0 = time.perf_counter()
            checked_at = datetime.now()
            needed = sd.asset if sd.family else sd.table
            if needed and needed not in tables:
                outcomes.append(_missing_outcome(sd, run_id, partition, checked_at, f"{needed} does not exist"))
                continue
            try:
                if sd.table:
                    schema, table = sd.table.split(".")
                    asset = ds.add_table_asset(sd.name, table_name=table, schema_name=schema)
                else:
                    asset = ds.add_query_asset(sd.name, query=sd.batch_query(months))
                batch = asset.add_batch_definition_whole_table("whole").get_batch()
            except Exception as exc:  # noqa: BLE001 - an unreadable batch is itself the result
                outcomes.append(_missing_outcome(sd, run_id, partition, checked_at, str(exc).splitlines()[0]))
                continue
            by_query = [r.expectation for r in sd.rules if type(r.expectation).__name__ == ROWS_EXPECTATION]
            by_column = [r.expectation for r in sd.rules if type(r.expectation).__name__ != ROWS_EXPECTATION]
            results, meta = _column_results(batch, sd, by_column, sample) if by_column else ([], {})
            if by_query:
                # COMPLETE returns the query's rows, which GX caps at 200 and which are key columns only.
                res = batch.validate(gx.ExpectationSuite(name=sd.name, expectations=by_query),
                                     result_format="COMPLETE")
                results += res.results
                meta = meta or res.meta
            order = {r.id: i for i, r in enumerate(sd.rules)}
            results.sort(key=lambda r: order.get((r.expectation_config.meta or {}).get("id"), 0))
            for r in results:
                r.result = scrub(dict(r.result or {}))
                if r.exception_info:
                    r.exception_info = scrub(r.exception_info)
            rows = _to_rows(sd, results, run_id, partition if sd.family else None, checked_at, sample)
            gx_result = None
            if keep_gx:
                from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

                merged = ExpectationSuiteValidationResult(
                    success=all(r.success for r in results), results=results, suite_name=sd.name,
                    statistics=_statistics(results), meta=scrub({k: v for k, v in meta.items()
                                                                 if k != "batch_spec"}))
                gx_result = scrub(merged.to_json_dict())
            outcomes.append(SuiteOutcome(sd.name, sd.kind, sd.asset, sd.asset_key, rows,
                                         time.perf_counter() - t0, gx_result))
    return outcomes


def _rule_id(expectation) -> str:
    return (expectation.meta or {})["id"]


def _is_row_map(expectation) -> bool:
    """An expectation that tests each row (its result counts rows), not the table as a whole."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    return isinstance(expectation, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation)


def _column_results(batch, sd: SuiteDef, expectations: list, sample: int) -> tuple[list, dict]:
    """The column and table expectations of a suite: a quick pass for all, the detailed one where one fails.

    The detailed result (SUMMARY: a bounded sample of failing values and keys) costs GX a scan of the whole batch
    per expectation even when no row fails, since nothing stops its LIMIT early: at the national volume that is
    most of the checks' time. The quick pass (BOOLEAN_ONLY) computes the unexpected counts of all of them
    together. An expectation that passes it without a `mostly` has no unexpected row, so its result is known
    exactly (0 of the batch's rows); the others (failed, raised, or allowed a share of failures) run again in
    SUMMARY, and their result is GX's own.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    exact = [e for e in expectations if getattr(e, "mostly", 1) in (None, 1)]
    quick = batch.validate(gx.ExpectationSuite(name=sd.name, expectations=exact),
                           result_format={"result_format": "BOOLEAN_ONLY"}) if exact else None
    by_id = {_rule_id(r.expectation_config): r for r in (quick.results if quick else [])}
    passed = [e for e in exact if by_id[_rule_id(e)].success
              and not (by_id[_rule_id(e)].exception_info or {}).get("raised_exception")]
    if any(_is_row_map(e) for e in passed):
        count = batch.validate(gx.ExpectationSuite(name=sd.name, expectations=[gxe.ExpectTableRowCountToBeBetween(
            min_value=0)]), result_format={"result_format": "BASIC"}).results[0].result["observed_value"]
    results = []
    for e in passed:
        r = by_id[_rule_id(e)]
        if _is_row_map(e):
            r.result = {"element_count": count, "unexpected_count": 0, "unexpected_percent": 0.0,
                        "partial_unexpected_list": [], "partial_unexpected_counts": []}
        results.append(r)
    passed_ids = {_rule_id(e) for e in passed}
    detailed = [e for e in expectations if _rule_id(e) not in passed_ids]
    meta = quick.meta if quick else {}
    if detailed:
        # SUMMARY keeps a bounded sample; COMPLETE would fetch every unexpected value of a column.
        res = batch.validate(
            gx.ExpectationSuite(name=sd.name, expectations=detailed),
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample,
                           "unexpected_index_column_names": list(sd.key_columns)})
        results += res.results
        meta = res.meta
    return results, meta


def _statistics(results: list) -> dict:
    n = len(results)
    ok = sum(1 for r in results if r.success)
    return {"evaluated_expectations": n, "successful_expectations": ok, "unsuccessful_expectations": n - ok,
            "success_percent": 100.0 * ok / n if n else None}


# --------------------------------------------------------------------------------------------------------------
# Persistence
# --------------------------------------------------------------------------------------------------------------


def persist(warehouse: Path, outcomes: list[SuiteOutcome], con: duckdb.DuckDBPyConnection | None = None) -> int:
    """Append the rows to audit.dq_results in one transaction; returns the number of rows written."""
    rows = [r for o in outcomes for r in o.rows]
    own = con is None
    if own:
        from orchestration.warehouse.connection import connect

        con = connect(Path(warehouse))
    try:
        ddl.apply(con, "audit_runs")
        con.execute("begin transaction")
        con.executemany(
            "insert into audit.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[r.run_id, r.suite, r.expectation, r.rule, r.asset, r.partition, r.success, r.severity,
              r.unexpected_count, r.element_count, r.failing_keys, r.observed_value, r.description, r.checked_at]
             for r in rows])
        con.execute("commit")
    finally:
        if own:
            con.close()
    return len(rows)
