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
    from orchestration.synthetic import generate

    out = Path(args.out) if args.out else settings().inbox
    t0 = time.perf_counter()
    res = generate(out, scale=args.scale, years=tuple(args.years), seed=args.seed, fmt=args.format)
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

    return run_pipeline(
        scale=args.scale, seed=args.seed, regenerate=args.regenerate, period=args.period
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
    return 0


def build_parser() -> argparse.ArgumentParser:
    from orchestration.synthetic import DEFAULT_SCALE, DEFAULT_SEED, DEFAULT_YEARS

    p = argparse.ArgumentParser(prog="piramide", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write sample extract files (opening month and whole years)")
    g.add_argument("--scale", type=float, default=DEFAULT_SCALE, help="1.0 = the institute's national volume")
    g.add_argument("--years", type=int, nargs="+", default=list(DEFAULT_YEARS))
    g.add_argument("--seed", type=int, default=DEFAULT_SEED)
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
    r.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    r.add_argument("--seed", type=int, default=DEFAULT_SEED)
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
