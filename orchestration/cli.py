"""The `piramide` command: parses arguments and calls the modules that do the work."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR, dbt_env, settings


def _cmd_generate(args: argparse.Namespace) -> int:
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


def _cmd_load(args: argparse.Namespace) -> int:
    from orchestration.ingest import load_file, load_inbox

    if args.files:
        results = [load_file(Path(f)) for f in args.files]
    else:
        results = load_inbox(Path(args.dir) if args.dir else None)
    for r in results:
        print(f"[{r.outcome:9}] {r.message}")
    if not results:
        print("nothing new in the inbox")
    return 1 if any(r.outcome == "rejected" for r in results) and args.strict else 0


def dbt(*dbt_args: str) -> int:
    from orchestration.defs.project import dbt_executable

    cmd = [dbt_executable(), *dbt_args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    return subprocess.call(cmd, env=dbt_env(), cwd=DBT_PROJECT_DIR)


def _cmd_dbt(args: argparse.Namespace) -> int:
    return dbt(*args.dbt_args)


def _cmd_parse(_: argparse.Namespace) -> int:
    return dbt("parse", "--quiet")


def _cmd_run(args: argparse.Namespace) -> int:
    from orchestration.pipeline import run_pipeline
    from orchestration.synthetic import DEFAULT_SCALE, DEFAULT_SEED

    return run_pipeline(
        scale=DEFAULT_SCALE if args.scale is None else args.scale,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        regenerate=args.regenerate, period=args.period
    )


def _cmd_summary(args: argparse.Namespace) -> int:
    from orchestration.summary import print_summary

    print_summary(args.period)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from orchestration.explain import explain

    return explain(args.node, structure=args.structure, period=args.period)


def _cmd_report(args: argparse.Namespace) -> int:
    from orchestration.report import build_report

    res = build_report(args.period, Path(args.out) if args.out else None)
    print(f"report {res.period}: {res.path} ({res.size_bytes / 1e3:,.0f} kB, {res.seconds:.1f} s); also {res.latest}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from orchestration.report.dbt_docs import generate_docs

    res = generate_docs(Path(args.out) if args.out else None)
    print(f"dbt docs: {res.index} ({res.seconds:.1f} s)")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from orchestration.export import export_parquet

    res = export_parquet(Path(args.out) if args.out else None)
    rows = sum(t["rows"] for t in res.tables)
    print(f"exported {len(res.tables)} marts tables ({rows:,} rows) to {res.folder} in {res.seconds:.1f} s; "
          f"manifest {res.folder / 'manifest.json'}")
    for s in res.skipped:
        print(f"  skipped {s['table']}: {s['error']}")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from orchestration.ingest.loader import connect
    from orchestration.publication import PublicationError, PublicationRefused, history, publish

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


def _cmd_reopen(args: argparse.Namespace) -> int:
    from orchestration.publication import PublicationError, reopen

    try:
        pub = reopen(args.period, args.reason)
    except PublicationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"reopened {pub.period_end:%Y-%m} (event {pub.publication_id}; version {pub.version} stays published)")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from orchestration.ingest.loader import connect
    from orchestration.publication import PublicationError, diff, print_diff

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


def _cmd_whatif(args: argparse.Namespace) -> int:
    from orchestration.scenario import OverrideError, ScenarioError, drop_scenario, list_scenarios, run_whatif
    from orchestration.scenario.whatif import print_list, print_result

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


def build_parser() -> argparse.ArgumentParser:
    # Defaults of the generator are filled in by the commands that generate: importing the generator here
    # (pandas) would add seconds to every light command (summary, report, export).
    p = argparse.ArgumentParser(prog="piramide", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write sample extract files (opening month and whole years)")
    g.add_argument("--scale", type=float, default=None, help="1.0 = the institute's national volume (default 0.02)")
    g.add_argument("--years", type=int, nargs="+", default=None, help="default: 2020 2021")
    g.add_argument("--seed", type=int, default=None, help="default 2021")
    g.add_argument("--out", help="folder (default: the inbox, PIRAMIDE_INBOX)")
    g.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    g.set_defaults(func=_cmd_generate)

    ld = sub.add_parser("load", help="validate and load new extract files into the raw schema")
    ld.add_argument("dir", nargs="?", help="inbox folder (default PIRAMIDE_INBOX)")
    ld.add_argument("--file", dest="files", action="append", help="load exactly this file (repeatable)")
    ld.add_argument("--strict", action="store_true", help="exit 1 when a file is rejected")
    ld.set_defaults(func=_cmd_load)

    d = sub.add_parser("dbt", help="run dbt against the configured warehouse, e.g. piramide dbt build")
    d.add_argument("dbt_args", nargs=argparse.REMAINDER)
    d.set_defaults(func=_cmd_dbt)

    pa = sub.add_parser("parse", help="build the dbt manifest Dagster reads")
    pa.set_defaults(func=_cmd_parse)

    r = sub.add_parser("run", help="the whole pipeline through Dagster: generate if needed, load, build, check")
    r.add_argument("--scale", type=float, default=None, help="sample scale when generating (default 0.02)")
    r.add_argument("--seed", type=int, default=None, help="sample seed when generating (default 2021)")
    r.add_argument("--regenerate", action="store_true", help="write a fresh sample even if the inbox has files")
    r.add_argument("--period", default=None, help="YYYY-MM of the summary (default: latest month)")
    r.set_defaults(func=_cmd_run)

    s = sub.add_parser("summary", help="print the national figures of a month-end with their targets")
    s.add_argument("--period", default=None)
    s.set_defaults(func=_cmd_summary)

    e = sub.add_parser("explain", help="a node's children and weights; a leaf's formula, numerator, denominator")
    e.add_argument("node")
    e.add_argument("--structure", default="nazionale")
    e.add_argument("--period", default=None)
    e.set_defaults(func=_cmd_explain)

    rp = sub.add_parser("report", help="the static HTML report of a month-end (offline, self-contained)")
    rp.add_argument("--period", default=None, help="YYYY-MM (default: the latest month-end with a VPI)")
    rp.add_argument("--out", default=None, help="folder (default: the warehouse folder's reports/)")
    rp.set_defaults(func=_cmd_report)

    dc = sub.add_parser("docs", help="dbt docs generate (static site) into the warehouse folder's reports/dbt_docs/")
    dc.add_argument("--out", default=None)
    dc.set_defaults(func=_cmd_docs)

    ex = sub.add_parser("export", help="every marts table to Parquet, one file per table plus a manifest")
    ex.add_argument("--format", choices=["parquet"], default="parquet")
    ex.add_argument("--out", default=None, help="folder (default: the warehouse folder's export/parquet/)")
    ex.set_defaults(func=_cmd_export)

    pb = sub.add_parser("publish", help="freeze a month-end's scores into the append-only publish schema")
    pb.add_argument("--period", default=None, help="YYYY-MM")
    pb.add_argument("--note", default=None)
    pb.add_argument("--force", action="store_true", help="publish although the completeness checks fail")
    pb.add_argument("--reason", default=None, help="why (required with --force)")
    pb.add_argument("--list", action="store_true", help="list the publications and reopenings (of --period)")
    pb.set_defaults(func=_cmd_publish)

    ro = sub.add_parser("reopen", help="record that a published month-end is open again")
    ro.add_argument("--period", required=True, help="YYYY-MM")
    ro.add_argument("--reason", required=True)
    ro.set_defaults(func=_cmd_reopen)

    df = sub.add_parser("diff", help="today's scores against a publication, node by node, with causes")
    df.add_argument("--period", default=None, help="YYYY-MM")
    df.add_argument("--against", type=int, default=None, help="publication id (default: the period's latest)")
    df.add_argument("--all", action="store_true", help="every moved row, not only the largest")
    df.set_defaults(func=_cmd_diff)

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
    wi.set_defaults(func=_cmd_whatif)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("DAGSTER_HOME", str(settings().warehouse.parent / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
