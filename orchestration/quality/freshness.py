"""dbt source freshness, evaluated in-process from the dbt configuration.

The thresholds and the loaded-at queries live in one place, the dbt sources (dbt_project/models/staging/
_staging.yml), so `piramide dbt source freshness` gives operators dbt's own verdict. A `dbt` process costs seconds
of start-up and parsing on every run, so the checks read the same configuration and run the same queries on a
read-only attachment of the warehouse under the catalogue alias the queries name (`piramide`, as in the dbt
profile): the verdict is dbt's rule (age > error_after: error; > warn_after: warn), the cost a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import yaml

from orchestration.config import DBT_PROJECT_DIR

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_staging.yml"
CATALOG = "piramide"  # the alias the dbt profile attaches the warehouse under
_PERIOD = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class FreshnessRule:
    source: str  # source.table, as dbt names it
    query: str
    warn_after: timedelta | None
    error_after: timedelta | None

    def describe(self) -> str:
        def days(t: timedelta | None) -> str:
            return f"{t.total_seconds() / 86400:g} days" if t else "never"

        return f"Latest delivery of {self.source} is recent (warn after {days(self.warn_after)}, error after " \
               f"{days(self.error_after)}; dbt source freshness, models/staging/_staging.yml)."


def _after(spec: dict | None) -> timedelta | None:
    if not spec or spec.get("count") is None:
        return None
    return int(spec["count"]) * _PERIOD[spec["period"]]


def freshness_rules(path: Path = SOURCES_YML) -> list[FreshnessRule]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = []
    for src in doc.get("sources", []):
        schema = src.get("schema", src["name"])
        for t in src.get("tables", []):
            cfg = t.get("config") or {}
            fresh = cfg.get("freshness") or t.get("freshness")
            if not fresh:
                continue
            if cfg.get("loaded_at_query"):
                query = " ".join(cfg["loaded_at_query"].split())
            else:
                field = cfg.get("loaded_at_field") or t.get("loaded_at_field")
                if not field:
                    continue
                query = f"select max({field}) from {CATALOG}.{schema}.{t['name']}"  # noqa: S608 - dbt config
            rules.append(FreshnessRule(f"{src['name']}.{t['name']}", query, _after(fresh.get("warn_after")),
                                       _after(fresh.get("error_after"))))
    return rules


@dataclass(frozen=True)
class FreshnessResult:
    rule: FreshnessRule
    status: str  # pass | warn | error | runtime error
    max_loaded_at: datetime | None
    age: timedelta | None
    message: str


def evaluate(warehouse: Path, now: datetime | None = None) -> list[FreshnessResult]:
    """Run every configured loaded-at query; the warehouse is attached read-only and detached on return."""
    now = now or datetime.now()
    out = []
    con = duckdb.connect()
    try:
        # ATTACH takes no bound parameter for its path: quote it as a SQL string literal.
        path = Path(warehouse).resolve().as_posix().replace("'", "''")
        con.execute(f"attach '{path}' as {CATALOG} (read_only)")
        for rule in freshness_rules():
            try:
                value = con.execute(rule.query).fetchone()[0]
            except duckdb.Error as exc:
                out.append(FreshnessResult(rule, "runtime error", None, None, str(exc).splitlines()[0]))
                continue
            if value is None:
                out.append(FreshnessResult(rule, "error" if rule.error_after else "warn", None, None,
                                           "never delivered"))
                continue
            value = value.replace(tzinfo=None) if isinstance(value, datetime) else value
            age = now - value
            status = "pass"
            if rule.error_after and age > rule.error_after:
                status = "error"
            elif rule.warn_after and age > rule.warn_after:
                status = "warn"
            days = age.total_seconds() / 86400
            out.append(FreshnessResult(rule, status, value, age, f"last delivery {value:%Y-%m-%d %H:%M}, "
                                                                  f"{days:.1f} days ago"))
    finally:
        con.close()
    return out
