"""The `piramide` command line: the parser, logging set-up, and one place that turns a warehouse in use into
one line and exit 75."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from orchestration.cli import commands
from orchestration.config import settings


def build_parser() -> argparse.ArgumentParser:
    # Defaults of the generator are filled in by the commands that generate: importing the generator here
    # (pandas) would add seconds to every light command (summary, report, export).
    p = argparse.ArgumentParser(
        prog="piramide", description="The public value pyramid of the performance plan: from the raw extracts to "
        "the synthetic public value index, every KPI scored and traceable (DuckDB, dbt, Dagster, Great Expectations).")
    p.add_argument("-v", "--verbose", action="store_true", help="library logs on the console too (always in the log)")
    p.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                   help="when another process holds the warehouse, wait up to SECONDS for it (default: exit 75)")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write sample extract files (opening month and whole years)")
    g.add_argument("--scale", type=float, default=None, help="1.0 = the institute's national volume (default 0.02)")
    g.add_argument("--years", type=int, nargs="+", default=None, help="default: 2020 2021")
    g.add_argument("--seed", type=int, default=None, help="default 2021")
    g.add_argument("--out", help="folder (default: the inbox, PIRAMIDE_INBOX)")
    g.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    g.set_defaults(func=commands.cmd_generate)

    ld = sub.add_parser("load", help="validate and load new extract files into the raw schema")
    ld.add_argument("dir", nargs="?", help="inbox folder (default PIRAMIDE_INBOX)")
    ld.add_argument("--file", dest="files", action="append", help="load exactly this file (repeatable)")
    ld.add_argument("--strict", action="store_true", help=argparse.SUPPRESS)  # now always: exit 3 on a rejection
    ld.add_argument("--accept-volume-drop", action="store_true",
                    help="load the --file restatement although it drops more rows or keys than allowed")
    ld.add_argument("--reason", default=None, help="why the drop is right (recorded in the ledger)")
    ld.set_defaults(func=commands.cmd_load)

    d = sub.add_parser("dbt", help="run dbt against the configured warehouse, e.g. piramide dbt build")
    d.add_argument("dbt_args", nargs=argparse.REMAINDER)
    d.set_defaults(func=commands.cmd_dbt)

    pa = sub.add_parser("parse", help="build the dbt manifest Dagster reads")
    pa.set_defaults(func=commands.cmd_parse)

    r = sub.add_parser("run", help="the whole pipeline through Dagster: generate if needed, load, build, check")
    r.add_argument("--scale", type=float, default=None, help="sample scale when generating (default 0.02)")
    r.add_argument("--seed", type=int, default=None, help="sample seed when generating (default 2021)")
    r.add_argument("--regenerate", action="store_true", help="write a fresh sample even if the inbox has files")
    r.add_argument("--period", default=None, help="YYYY-MM of the summary (default: latest month)")
    r.set_defaults(func=commands.cmd_run)

    s = sub.add_parser("summary", help="print the national figures of a month-end with their targets")
    s.add_argument("--period", default=None)
    s.set_defaults(func=commands.cmd_summary)

    e = sub.add_parser("explain", help="a node's children and weights; a leaf's formula, numerator, denominator")
    e.add_argument("node")
    e.add_argument("--structure", default="nazionale")
    e.add_argument("--period", default=None)
    e.set_defaults(func=commands.cmd_explain)

    tr = sub.add_parser("trace", help="a leaf's score down to the extract rows (or components) behind it")
    tr.add_argument("node")
    tr.add_argument("--structure", default="nazionale")
    tr.add_argument("--period", required=True, help="YYYY-MM")
    tr.add_argument("--out", default=None, help="FILE.csv or FILE.parquet: every row, streamed (default: a summary)")
    tr.add_argument("--product", default=None,
                    help="a product code listed under a quality index (QUALITY_*): its elementary indicators and "
                         "the practice rows of their numerators and denominators")
    tr.set_defaults(func=commands.cmd_trace)

    rp = sub.add_parser("report", help="the static HTML report of a month-end (offline, self-contained)")
    rp.add_argument("--period", default=None, help="YYYY-MM (default: the latest month-end with a VPI)")
    rp.add_argument("--out", default=None, help="folder (default: the warehouse folder's reports/)")
    rp.set_defaults(func=commands.cmd_report)

    dc = sub.add_parser("docs", help="dbt docs generate (static site) into the warehouse folder's reports/dbt_docs/")
    dc.add_argument("--out", default=None)
    dc.set_defaults(func=commands.cmd_docs)

    dr = sub.add_parser("docs-reference", help="write docs/kpi_reference.md and docs/landing_contract.md from the code")
    dr.add_argument("--check", action="store_true", help="fail if a committed page is stale; write nothing")
    dr.set_defaults(func=commands.cmd_docs_reference)

    ex = sub.add_parser("export", help="every marts table to Parquet, one file per table plus a manifest")
    ex.add_argument("--format", choices=["parquet"], default="parquet")
    ex.add_argument("--out", default=None, help="folder (default: the warehouse folder's export/parquet/)")
    ex.set_defaults(func=commands.cmd_export)

    pb = sub.add_parser("publish", help="freeze a month-end's scores into the append-only publish schema")
    pb.add_argument("--period", default=None, help="YYYY-MM")
    pb.add_argument("--note", default=None)
    pb.add_argument("--force", action="store_true", help="publish although the completeness checks fail")
    pb.add_argument("--reason", default=None, help="why (required with --force)")
    pb.add_argument("--list", action="store_true", help="list the publications and reopenings (of --period)")
    pb.set_defaults(func=commands.cmd_publish)

    ro = sub.add_parser("reopen", help="record that a published month-end is open again")
    ro.add_argument("--period", required=True, help="YYYY-MM")
    ro.add_argument("--reason", required=True)
    ro.set_defaults(func=commands.cmd_reopen)

    df = sub.add_parser("diff", help="today's scores against a publication, node by node, with causes")
    df.add_argument("--period", default=None, help="YYYY-MM")
    df.add_argument("--against", type=int, default=None, help="publication id (default: the period's latest)")
    df.add_argument("--all", action="store_true", help="every moved row, not only the largest")
    df.set_defaults(func=commands.cmd_diff)

    wi = sub.add_parser("whatif", help="recompute the pyramid under weight and target overrides (scenario schema)")
    wi.add_argument("--set", action="append", metavar="OVERRIDE",
                    help="NODE.weight=VALUE or target.KPI[@STRUCTURE].YEAR=VALUE (repeatable)")
    wi.add_argument("--period", default=None, help="YYYY-MM shown (default: latest month-end with a VPI)")
    wi.add_argument("--name", default=None, help="scenario name (lower-case identifier)")
    wi.add_argument("--save", action="store_true", help="keep the scenario (marts.fct_scenario_scores)")
    wi.add_argument("--note", default=None, help="a note stored with a saved scenario")
    wi.add_argument("--list", action="store_true", help="list the saved scenarios")
    wi.add_argument("--drop", default=None, metavar="NAME", help="drop a saved scenario")
    wi.add_argument("--all", action="store_true", help="list every changed row at every structure")
    wi.set_defaults(func=commands.cmd_whatif)

    pl = sub.add_parser("plan", help="the plan's seeds: what is missing or inconsistent")
    pl_sub = pl.add_subparsers(dest="plan_command", required=True)
    pc = pl_sub.add_parser("check", help="weights, targets for the year, profiles, polarity and caps, orphan nodes")
    pc.add_argument("--year", type=int, default=None, help="default: every year of the plan (kpi_parameters)")
    pc.add_argument("--seeds", default=None, help="seed folder (default: the project's seeds/)")
    pc.set_defaults(func=commands.cmd_plan_check)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from orchestration.console import setup

    # Library chatter goes to the log file in the warehouse folder; the console gets progress lines.
    args.log_file = setup(settings().warehouse, verbose=args.verbose)
    os.environ.setdefault("DAGSTER_HOME", str(settings().warehouse.parent / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return _run_command(args)


# Commands that write the warehouse (with the arguments that make them write): their lock is probed first, so a
# busy warehouse is one line and exit 75 before any work starts.
_WRITERS = {
    "load": lambda a: True,
    "dbt": lambda a: _dbt_touches(a.dbt_args),
    "run": lambda a: True,
    "publish": lambda a: not a.list,
    "reopen": lambda a: True,
    "whatif": lambda a: not a.list,
}


def _dbt_touches(dbt_args: list[str]) -> bool:
    from orchestration.warehouse.dbt import touches_warehouse

    return touches_warehouse(dbt_args)


def _run_command(args: argparse.Namespace) -> int:
    """The command, with a warehouse in use reported in one line (exit 75) instead of a traceback."""
    import duckdb

    from orchestration.warehouse.connection import EXIT_BUSY, WAIT_ENV, WarehouseBusy, lock_holder, open_duckdb

    if args.wait is not None:
        os.environ[WAIT_ENV] = repr(args.wait)  # every connect() of this process and its children waits
    warehouse = settings().warehouse
    try:
        writes = _WRITERS.get(args.command)
        if writes and writes(args) and warehouse.exists():
            open_duckdb(warehouse).close()
        return int(args.func(args) or 0)
    except WarehouseBusy as exc:
        print(f"piramide {args.command}: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except duckdb.IOException as exc:
        holder = lock_holder(str(exc))
        if holder is None:
            raise
        print(f"piramide {args.command}: {WarehouseBusy(warehouse, *holder)}", file=sys.stderr)
        return EXIT_BUSY
