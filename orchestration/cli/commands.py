"""The `piramide` subcommands: each parses nothing, calls the module that does the work, and prints its outcome."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from orchestration.config import settings


def cmd_generate(args: argparse.Namespace) -> int:
    from orchestration.synthetic import DEFAULT_SCALE, DEFAULT_SEED, DEFAULT_YEARS, generate

    out = Path(args.out) if args.out else settings().inbox
    t0 = time.perf_counter()
    scale = DEFAULT_SCALE if args.scale is None else args.scale
    years = tuple(args.years or DEFAULT_YEARS)
    res = generate(out, scale=scale, years=years, seed=DEFAULT_SEED if args.seed is None else args.seed,
                   fmt=args.format)
    print(f"generated {len(res.files)} files in {out} ({time.perf_counter() - t0:.1f} s): "
          + ", ".join(f"{k} {v:,} rows" for k, v in res.rows.items()))
    return 0


# Exit codes of `piramide load` (README, "Exit codes"): a script can trust 0 to mean "everything is in".
EXIT_REJECTED = 3  # a file was rejected (ledger row with its rule id); the rest were loaded
EXIT_LATER = 75  # EX_TEMPFAIL: the warehouse is in use, or a file is still being written: retry later


def cmd_load(args: argparse.Namespace) -> int:
    from orchestration.ingest import inbox_files, load_files
    from orchestration.ingest.files import settle_seconds

    if args.accept_volume_drop and not (args.files and args.reason):
        print("--accept-volume-drop needs --file F (the restatement) and --reason TEXT", file=sys.stderr)
        return 2
    paths = [Path(f) for f in args.files] if args.files else inbox_files(Path(args.dir) if args.dir
                                                                            else settings().inbox)
    results = load_files(paths, settle=settle_seconds(), skip_seen=not args.files,
                         accept_volume_drop=args.reason if args.accept_volume_drop else None)
    shown: set[str] = set()
    for r in results:
        if r.message not in shown:  # an ambiguous pair shares one message
            shown.add(r.message)
            print(f"[{r.outcome:9}] {r.message}")
    if not results:
        print("nothing new in the inbox")
    if any(r.outcome == "rejected" for r in results):
        return EXIT_REJECTED
    return EXIT_LATER if any(r.outcome == "waiting" for r in results) else 0


def dbt(*dbt_args: str) -> int:
    """dbt as a child process (it dies with this one), for commands that go on after it."""
    from orchestration.warehouse.dbt import run_dbt

    return run_dbt(*dbt_args, capture=False).returncode


def cmd_dbt(args: argparse.Namespace) -> int:
    from orchestration.warehouse.dbt import exec_dbt

    # This process becomes dbt: a SIGKILL to `piramide dbt` kills dbt, and no orphan keeps the warehouse.
    exec_dbt(args.dbt_args)
    return 1  # not reached


def cmd_parse(_: argparse.Namespace) -> int:
    return dbt("parse", "--quiet")


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration.pipeline import run_pipeline
    from orchestration.synthetic import DEFAULT_SCALE, DEFAULT_SEED

    return run_pipeline(
        scale=DEFAULT_SCALE if args.scale is None else args.scale,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        regenerate=args.regenerate, period=args.period, verbose=args.verbose, log_file=args.log_file,
    )


def cmd_summary(args: argparse.Namespace) -> int:
    from orchestration.summary import print_summary

    print_summary(args.period)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from orchestration.explain import explain

    return explain(args.node, structure=args.structure, period=args.period)


def cmd_trace(args: argparse.Namespace) -> int:
    from orchestration.trace import run

    return run(args.node, args.structure, args.period, Path(args.out) if args.out else None, args.product)


def cmd_report(args: argparse.Namespace) -> int:
    from orchestration.report import build_report

    res = build_report(args.period, Path(args.out) if args.out else None)
    print(f"report {res.period}: {res.path} ({res.size_bytes / 1e3:,.0f} kB, {res.seconds:.1f} s); also {res.latest}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from orchestration.report.dbt_docs import generate_docs

    res = generate_docs(Path(args.out) if args.out else None)
    print(f"dbt docs: {res.index} ({res.seconds:.1f} s)")
    return 0


def cmd_docs_reference(args: argparse.Namespace) -> int:
    from orchestration.reference_docs import stale_pages, write_pages

    if args.check:
        stale = stale_pages()
        for name in stale:
            print(f"docs/{name} is stale: run `piramide docs-reference`")
        return 1 if stale else 0
    for path in write_pages():
        print(f"wrote {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from orchestration.export import export_parquet

    res = export_parquet(Path(args.out) if args.out else None)
    rows = sum(t["rows"] for t in res.tables)
    print(f"exported {len(res.tables)} marts tables ({rows:,} rows) to {res.folder} in {res.seconds:.1f} s; "
          f"manifest {res.folder / 'manifest.json'}")
    for s in res.skipped:
        print(f"  skipped {s['table']}: {s['error']}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from orchestration.publication import PublicationError, PublicationRefused, history, publish
    from orchestration.warehouse.connection import connect

    if args.list:
        con = connect(read_only=True)
        try:
            rows = history(con, args.period)
        finally:
            con.close()
        if not rows:
            print("nothing published")
        for pid, event, period_end, version, refers_to, at, by, forced, text, vpi, cov, n_s, n_p, code in rows:
            what = f"version {version}" if event == "publish" else f"reopens publication {refers_to}"
            figures = f"VPI {vpi:.3f} coverage {cov:.3f}, {n_s:,}+{n_p:,} rows" if vpi is not None else ""
            print(f"{pid:>4} {event:<7} {period_end:%Y-%m} {what:<24} {at:%Y-%m-%d %H:%M} {by or '-':<10} "
                  f"{'FORCED ' if forced else ''}{figures}  {text or ''}  [{code}]")
        return 0
    if not args.period:
        print("publish needs --period YYYY-MM (or --list)", file=sys.stderr)
        return 2
    try:
        pub = publish(args.period, note=args.note, force=args.force, reason=args.reason)
    except PublicationRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 3
    except PublicationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    c = pub.checks
    print(f"published {pub.period_end:%Y-%m} as publication {pub.publication_id}, version {pub.version}"
          f"{' (FORCED: ' + '; '.join(c.problems) + ')' if pub.forced else ''}: {pub.scores_rows:,} KPI rows, "
          f"{pub.pyramid_rows:,} pyramid rows; national VPI "
          f"{'-' if c.vpi_score is None else f'{c.vpi_score:.3f}'}, weight_coverage "
          f"{'-' if c.vpi_weight_coverage is None else f'{c.vpi_weight_coverage:.4f}'}")
    return 0


def cmd_reopen(args: argparse.Namespace) -> int:
    from orchestration.publication import PublicationError, reopen

    try:
        pub = reopen(args.period, args.reason)
    except PublicationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"reopened {pub.period_end:%Y-%m} (event {pub.publication_id}; version {pub.version} stays published)")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from orchestration.cli.show import print_diff
    from orchestration.publication import PublicationError, diff
    from orchestration.warehouse.connection import connect

    if args.period is None and args.against is None:
        print("diff needs --period YYYY-MM or --against PUBLICATION_ID", file=sys.stderr)
        return 2
    con = connect(read_only=True)
    try:
        result = diff(con, args.period, args.against)
    except PublicationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print_diff(result, show_all=args.all)
    return 0


def cmd_whatif(args: argparse.Namespace) -> int:
    from orchestration.cli.show import print_list, print_result
    from orchestration.scenario import OverrideError, ScenarioError, drop_scenario, list_scenarios, run_whatif

    try:
        if args.list:
            print_list(list_scenarios())
            return 0
        if args.drop:
            drop_scenario(args.drop)
            print(f"dropped scenario {args.drop}")
            return 0
        result = run_whatif(args.set or [], period=args.period, name=args.name, save=args.save, note=args.note)
    except (OverrideError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_result(result, show_all=args.all)
    return 0


def cmd_plan_check(args: argparse.Namespace) -> int:
    from orchestration.config import SEEDS_DIR
    from orchestration.plan_check import run_plan_check

    return run_plan_check(args.year, Path(args.seeds) if args.seeds else SEEDS_DIR)
