"""The auditor's artefact: a one-page data-quality summary per run, self-contained (inline CSS, no script, no
network), readable offline in any browser and printable. Everything shown was scrubbed of personal-data shapes
by the runner; the page scrubs again before writing, so a future change cannot leak through it.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.ingest.ledger import load_warnings
from orchestration.quality.runner import SuiteOutcome, scrub

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:24px auto;
max-width:1180px;
padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.muted{color:#57606a}.small{font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}th,td{border:1px solid #d0d7de;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f6f8fa;font-weight:600}td.n{text-align:right;
font-variant-numeric:tabular-nums}code,.keys{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.keys{white-space:nowrap}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}.card{border:1px solid #d0d7de;border-radius:6px;
padding:10px 14px;min-width:150px}.card b{display:block;font-size:22px}
.error{border-left:6px solid #cf222e}.warning{border-left:6px solid #bf8700}.finding{border-left:6px solid #0969da}
.ok{border-left:6px solid #1a7f37}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;color:#fff}
.tag.error{background:#cf222e;border:0}.tag.warning{background:#bf8700;border:0}.tag.finding{background:#0969da;border:0}
.tag.pass{background:#1a7f37}
table.inner{width:auto;margin:2px 0 4px}table.inner th,table.inner td{padding:1px 6px;font-size:12px}
tr.sub>td{border-top:0;background:#fbfcfd}
details{margin:4px 0}summary{cursor:pointer}
@media print{details{display:block}summary{list-style:none}}
"""


def _e(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return html.escape(f"{v:,.4g}")
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return html.escape(str(scrub(str(v))))


def _fmt_key(v) -> str:
    if isinstance(v, float):
        return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.2f}"
    return str(v)


def _keys_table(text: str | None) -> str:
    """The failing keys as a small table (they are key columns only, or the plan's figures)."""
    if not text:
        return ""
    try:
        rows = json.loads(text)
    except ValueError:
        return f'<span class="keys">{_e(text)}</span>'
    rows = [r for r in rows if isinstance(r, dict)]
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td class=keys>{_e(_fmt_key(r.get(c, '')))}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f'<table class="inner"><tr>{head}</tr>{body}</table>'


def _issue_table(rows, outcomes_by_suite) -> str:
    if not rows:
        return '<p class="muted">None.</p>'
    out = ["<table><tr><th>suite and asset</th><th>expectation</th><th>what is expected</th>"
           "<th>unexpected</th><th>observed</th></tr>"]
    for r in rows:
        months = f"<br><span class=small>months {_e(r.partition)}</span>" if r.partition else ""
        out.append(
            f"<tr><td><code>{_e(r.suite)}</code><br><code class=small>{_e(r.asset)}</code>{months}</td>"
            f"<td><code>{_e(r.expectation)}</code></td><td>{_e(r.description)}</td>"
            f"<td class=n>{_e(r.unexpected_count)}</td><td>{_e(r.observed_value)}</td></tr>")
        keys = _keys_table(r.failing_keys)
        if keys:
            out.append(f'<tr class="sub"><td></td><td colspan=4><span class="small muted">sample of failing keys'
                       f"</span>{keys}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def _query(warehouse: Path, sql: str) -> tuple[list[str], list[tuple]] | None:
    """A small read-only query for context tables; None when the table is not there (a failed build)."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        cur = con.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()


def _call(warehouse: Path, columns: list[str], fn) -> tuple[list[str], list[tuple]] | None:
    """`fn(con)`'s rows on a read-only connection, as a context table; None when it cannot be read."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return columns, fn(con)
    except duckdb.Error:
        return None
    finally:
        con.close()


def _plain_table(result) -> str:
    if result is None:
        return '<p class="muted">Not available in this warehouse.</p>'
    cols, rows = result
    if not rows:
        return '<p class="muted">No rows.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td class=n>{_e(v)}</td>" if isinstance(v, int | float) and not isinstance(v, bool)
                         else f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _gaps_section(warehouse: Path) -> str:
    """Per month, the leaves left without an actual and the quality sub-indicators dropped for a zero reference
    (orchestration.trace.gaps), each leaf with the command that traces it."""
    from orchestration.trace import leaf_gaps, zero_reference_drops

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return '<p class="muted">Not available in this warehouse.</p>'
    try:
        gaps, drops = leaf_gaps(con), zero_reference_drops(con)
    except duckdb.Error:
        return '<p class="muted">Not available in this warehouse.</p>'
    finally:
        con.close()
    leaves = _plain_table((
        ["month", "leaf", "status", "structures", "missing files", "trace (one structure)"],
        [(f"{g.period_end:%Y-%m}", g.kpi_code, g.dq_status, g.structures,
          ", ".join(g.missing_files) or f"none (delivered without these structures' rows: {', '.join(g.families)})",
          g.trace) for g in gaps]))
    dropped = _plain_table((
        ["month", "indicator", "dropped (reference 0)", "references"],
        [(f"{d.period_end:%Y-%m}", d.indicator, d.dropped, d.references) for d in drops]))
    return ("<h2>Leaves without an actual</h2><p class='small muted'>Per month and leaf: how many structures have "
            "no actual, why, and the extract files of the month that the leaf reads and were not delivered."
            f"</p>{leaves}<h2>Quality sub-indicators dropped: reference value 0</h2><p class='small muted'>An "
            "index against a zero reference is undefined: the product index averages the other indicators."
            f"</p>{dropped}")


def render(outcomes: list[SuiteOutcome], *, run_id: str, warehouse: Path, months: str | None,
           freshness: list | None, data_docs: Path | None, out_dir: Path, gx_version: str,
           not_run: list[str] | None = None) -> str:
    rows = [r for o in outcomes for r in o.rows]
    errors = [r for r in rows if r.is_error]
    warnings = [r for r in rows if r.is_warning]
    findings = [r for r in rows if r.is_finding]
    passed = sum(1 for r in rows if r.success)
    verdict = ("error", f"{len(errors)} failed check(s) of severity error: the run stops before these reach a "
                        "published score.") if errors else \
              ("ok", "No failed check of severity error: nothing stopped the run.")
    by_suite = {o.suite: o for o in outcomes}
    parts = [f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Data-quality summary, run {_e(run_id)}</title><style>{CSS}</style></head><body>
<h1>Data-quality summary</h1>
<p class="muted">Run <code>{_e(run_id)}</code> · checked {_e(datetime.now().strftime('%Y-%m-%d %H:%M'))} ·
warehouse <code>{_e(warehouse.name)}</code> in <code>{_e(warehouse.parent)}</code> · extract months
{_e(months or 'all current deliveries')} · Great Expectations {_e(gx_version)}</p>
<div class="card {verdict[0]}">{_e(verdict[1])}</div>
<div class="cards">
<div class="card"><b>{len(outcomes)}</b>suites</div>
<div class="card"><b>{len(rows)}</b>expectations</div>
<div class="card ok"><b>{passed}</b>passed</div>
<div class="card error"><b>{len(errors)}</b>failed, error</div>
<div class="card warning"><b>{len(warnings)}</b>failed, warning</div>
<div class="card finding"><b>{len(findings)}</b>findings</div>
</div>
<p class="small muted"><b>error</b>: the data break the landing contract or a KPI rule; the Dagster check is blocking
and downstream assets do not run. <b>warning</b>: shown, does not stop the run (volumes, freshness, coverage).
<b>finding</b>: the plan's own arithmetic does not add up (docs/decisions.md §13); the pipeline follows the plan as
printed and reports it. Failing keys name rows by lineage (<code>delivery_id</code>, <code>_row</code>: the extract
file's row) or by business key; personal data are never sampled, and pseudonym columns are checked for format
only.</p>
<h2>Failed, severity error</h2>{_issue_table(errors, by_suite)}
<h2>Failed, severity warning</h2>{_issue_table(warnings, by_suite)}
<h2>Findings: the plan's own anomalies</h2>{_issue_table(findings, by_suite)}
<h2>Suites</h2><table><tr><th>suite</th><th>kind</th><th>asset</th><th>expectations</th><th>passed</th>
<th>errors</th><th>warnings</th><th>findings</th><th>seconds</th></tr>"""]
    for o in outcomes:
        parts.append(
            f"<tr><td><code>{_e(o.suite)}</code></td><td>{_e(o.kind)}</td><td><code>{_e(o.asset)}</code></td>"
            f"<td class=n>{len(o.rows)}</td><td class=n>{sum(r.success for r in o.rows)}</td>"
            f"<td class=n>{len(o.errors)}</td><td class=n>{len(o.warnings)}</td><td class=n>{len(o.findings)}</td>"
            f"<td class=n>{o.seconds:.1f}</td></tr>")
    parts.append("</table>")
    if not_run:
        names = ", ".join(f"<code>{_e(n)}</code>" for n in not_run)
        parts.append(f"<p class='card warning'>Not run in this run: {names} (downstream of a failed blocking "
                     "check, or outside the run's selection).</p>")
    if freshness is not None:
        parts.append("<h2>Source freshness (dbt configuration)</h2><table><tr><th>source</th><th>status</th>"
                     "<th>latest delivery</th><th>rule</th></tr>")
        for f in freshness:
            tag = {"pass": "pass", "warn": "warning"}.get(f.status, "error")
            parts.append(f"<tr><td><code>{_e(f.rule.source)}</code></td><td><span class='tag {tag}'>"
                         f"{_e(f.status)}</span></td><td>{_e(f.message)}</td><td>{_e(f.rule.describe())}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Months: deliveries, missing structures, quarantine, VPI coverage</h2>")
    parts.append(_plain_table(_query(warehouse, """
        select strftime(month, '%Y-%m') as month, families_delivered as families, structures_missing_practices
            as "missing: practices", structures_missing_contacts as "contacts", structures_missing_staff as "staff",
            structures_missing_costs as "costs", structures_missing_revenue as "revenue",
            structures_missing_measures as "measures", rows_loaded, rows_quarantined, files_rejected,
            round(vpi_weight_coverage, 4) as vpi_coverage
        from marts.period_status order by month""")))
    parts.append("<h2>Quarantined rows by family and rule</h2>"
                 "<p class='small muted'>Counts only: the quarantined values stay in <code>audit.quarantine</code> "
                 "(personal data hashed).</p>")
    parts.append(_plain_table(_query(warehouse, """
        select l.family, q.rule_id as rule, q.column_name as "column", count(*) as violations,
            count(distinct (q.delivery_id, q.row_number)) as rows
        from audit.quarantine as q inner join audit.load_ledger as l on q.delivery_id = l.delivery_id
        group by all order by l.family, rule, "column" """)))
    parts.append("<h2>Deliveries loaded with a warning</h2><p class='small muted'>A first delivery far off the "
                 "family's recent months (<code>volume_anomaly</code>), or a restatement that removed rows and that "
                 "an operator accepted (<code>volume_drop</code>, with the reason given).</p>")
    parts.append(_plain_table(_call(warehouse, ["file", "family", "month", "warning", "message", "accepted reason",
                                                "loaded at"], load_warnings)))
    parts.append("<h2>Leaves without a target</h2><p class='small muted'>Per month-end of the plan's years, the "
                 "scored leaves that have an actual but no target (seeded or derived by a target rule) at some "
                 "structures: they carry no score, and the VPI's coverage counts their weight as not backed. "
                 "<code>piramide plan check --year YYYY</code> lists what the seeds still miss.</p>")
    parts.append(_plain_table(_query(warehouse, """
        select strftime(period_end, '%Y-%m') as month, count(distinct kpi_code) as leaves,
            count(*) as "structure x leaf", string_agg(distinct kpi_code, ', ' order by kpi_code) as "leaf codes"
        from marts.fct_kpi_scores
        where dq_status = 'no_target' and node_kind in ('leaf', 'composite')
            and year(period_end) >= (select value::integer from reference.kpi_parameters
                                     where parameter = 'plan_first_year')
        group by all order by month""")))
    parts.append(_gaps_section(warehouse))
    parts.append("<h2>Every expectation</h2>")
    for o in outcomes:
        status = "error" if o.errors else ("warning" if o.warnings else ("finding" if o.findings else "pass"))
        parts.append(f"<details><summary><code>{_e(o.suite)}</code> · {len(o.rows)} expectations · "
                     f"<span class='tag {status}'>{_e(status)}</span></summary><table><tr><th>expectation</th>"
                     "<th>rule</th><th>severity</th><th>result</th><th>what is expected</th><th>observed</th></tr>")
        for r in o.rows:
            res = "pass" if r.success else r.severity
            parts.append(f"<tr><td><code>{_e(r.expectation)}</code></td><td>{_e(r.rule)}</td>"
                         f"<td>{_e(r.severity)}</td><td><span class='tag {res}'>{'passed' if r.success else 'failed'}"
                         f"</span></td><td>{_e(r.description)}</td><td>{_e(r.observed_value)}</td></tr>")
        parts.append("</table></details>")
    docs = ""
    if data_docs is not None:
        rel = data_docs.relative_to(out_dir) if data_docs.is_relative_to(out_dir) else data_docs
        docs = (f" Great Expectations Data Docs of the latest run: <code>{_e(rel.as_posix())}</code> beside this "
                "file (a secondary view: its pages load styles and scripts from the internet).")
    parts.append(f"""<h2>Where this comes from</h2>
<p class="small">Every result above is a row of <code>audit.dq_results</code> with <code>run_id =
'{_e(run_id)}'</code> in the warehouse. The suites are generated from the landing contract, the seeds and the dbt
contracts (<code>orchestration/quality/suites.py</code>; readable JSON in <code>expectations/</code>).{docs}</p>
</body></html>""")
    return scrub("\n".join(parts))
