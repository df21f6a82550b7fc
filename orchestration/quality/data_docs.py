"""GX Data Docs for a run, beside the summary: the secondary, GX-native view of the same results.

Built from the scrubbed results the runner kept (or spooled from the Dagster checks), into an in-memory context
whose only file output is the site. Its pages load Bootstrap, jQuery and Vega from CDNs, so they are not the
offline artefact; the one-page summary is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from orchestration.quality.gx_duckdb import new_context
from orchestration.quality.runner import SuiteOutcome
from orchestration.quality.suites import SuiteDef


def build(outcomes: list[SuiteOutcome], suite_defs: list[SuiteDef], run_id: str, site_dir: Path) -> Path | None:
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    site_dir.mkdir(parents=True, exist_ok=True)
    context = new_context(site_dir)
    by_name = {d.name: d for d in suite_defs}
    run = RunIdentifier(run_name=run_id, run_time=dt.datetime.now(dt.UTC))
    stored = 0
    for o in outcomes:
        if o.gx_result is None or o.suite not in by_name:
            continue
        context.suites.add(by_name[o.suite].gx_suite())
        result = ExpectationSuiteValidationResultSchema().load(o.gx_result)
        key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=o.suite),
                                         run_id=run, batch_identifier=o.asset.replace("/", "."))
        context.validation_results_store.set(key, result)
        stored += 1
    if not stored:
        return None
    context.build_data_docs(site_names=["local_site"])
    return site_dir / "index.html"
