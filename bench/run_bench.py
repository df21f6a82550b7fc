"""National-scale benchmark (issue 6): `make bench`, by hand only (never in CI, never collected by pytest).

Generates a scale (default 1.0) of the opening month and two years into bench/work/, then runs every stage as a
subprocess (generate, load, dbt build, checks, report, BI copy), measuring wall time and peak memory (RSS of the
process tree, sampled from /proc every 0.2 s). On the same warehouse it times the two baselines, the floor
(bench/floor.sql, one DuckDB script) and the peer (bench/peer_pandas.py, pandas under RLIMIT_AS), against
`dbt run --select +<the models producing the figures>`, asserts the three give the same national December 2021
figures and writes bench/results.md.

    .venv/bin/python bench/run_bench.py [--scale 0.2] [--work bench/work] [--reuse] [--peer-limit-gb 16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PY = sys.executable
FIGURES = ("PRODUZIONE_LORDA", "IG_TOTAL", "IG_PSI", "IG_GCAI", "IG_FLUSSI", "IG_ALTRE", "OUTFLOW", "PRODUCTIVITY",
           "COST_PER_POINT", "IMP_CONTINUITY")
# The models that produce FIGURES (and their parents): what the floor and the peer are compared with.
FIGURE_MODELS = ("+int_kpi_actuals_production", "+int_kpi_actuals_practices", "+int_kpi_actuals_costs")
REL_TOL = 1e-9


# --- measurement ---------------------------------------------------------------------------------------------
def _tree_rss(root: int) -> int:
    """RSS in bytes of `root` and all its descendants (one pass over /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            with open(f"/proc/{d}/statm") as f:
                pages = int(f.read().split()[1])
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = pages * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


@dataclass
class Stage:
    name: str
    seconds: float = math.nan
    peak_bytes: int = 0
    note: str = ""
    stdout: str = field(default="", repr=False)


def run(name: str, cmd: list[str], env: dict[str, str], check: bool = True, preexec=None) -> Stage:
    """Run `cmd`, sampling the RSS of its process tree every 0.2 s."""
    stage = Stage(name)
    print(f"[bench] {name}: {' '.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=preexec)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            stage.peak_bytes = max(stage.peak_bytes, _tree_rss(proc.pid))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    stage.seconds = time.perf_counter() - t0
    stop.set()
    sampler.join()
    stage.stdout = out
    if proc.returncode != 0:
        stage.note = f"exit {proc.returncode}"
        if check:
            print(out[-5000:])
            raise SystemExit(f"[bench] stage {name} failed (exit {proc.returncode})")
    print(f"[bench] {name}: {stage.seconds:.1f} s, peak {stage.peak_bytes / 1e9:.2f} GB", flush=True)
    return stage


# --- stages --------------------------------------------------------------------------------------------------
def available(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def dbt_model_seconds(target: Path) -> float:
    """Sum of the models' execution times in dbt's run_results.json (dbt's own overhead excluded)."""
    res = json.loads((target / "run_results.json").read_text())
    return sum(r.get("execution_time") or 0 for r in res["results"] if r["unique_id"].startswith("model."))


def pipeline_figures(warehouse: Path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select kpi_code, actual_value from marts.fct_kpi_scores "
            "where structure_code = 'nazionale' and period_end = date '2021-12-31' and list_contains(?, kpi_code)",
            [list(FIGURES)],
        ).fetchall()
    finally:
        con.close()
    return {k: float(v) for k, v in rows}


FLOOR_RUNNER = """
import duckdb, json, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute(f"set memory_limit = '{sys.argv[3]}'")
con.execute(f"set threads = {int(sys.argv[4])}")
sql = open(sys.argv[2]).read()
t0 = time.perf_counter()
rows = con.execute(sql).fetchall()
print(json.dumps({"seconds": time.perf_counter() - t0, "figures": {k: v for k, v in rows}}))
"""


def compare(name: str, ref: dict[str, float], other: dict[str, float]) -> list[str]:
    bad = []
    for k in FIGURES:
        a, b = ref.get(k), other.get(k)
        if a is None or b is None or not math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0):
            bad.append(f"{k}: pipeline {a!r} vs {name} {b!r}")
    return bad


def limit_as(gb: float):
    def _set() -> None:
        lim = int(gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))

    return _set


def machine() -> str:
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu or platform.machine()}), {mem / 1024**3:.1f} GiB RAM, {platform.system()}"


def fmt_gb(b: int) -> str:
    return f"{b / 1e9:.2f}" if b else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    ap.add_argument("--reuse", action="store_true", help="keep the generated inbox of a previous run")
    ap.add_argument("--peer-limit-gb", type=float, default=16.0)
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()

    work = args.work.resolve()
    inbox, held = work / "inbox", work / "held_back"
    warehouse = work / "warehouse" / "piramide.duckdb"
    env = dict(os.environ)
    env.update(PIRAMIDE_INBOX=str(inbox), PIRAMIDE_WAREHOUSE=str(warehouse), PIRAMIDE_REPORTS=str(work / "reports"),
               PIRAMIDE_TARGET_SCALE=repr(args.scale))
    env.setdefault("PIRAMIDE_MEMORY_LIMIT", "6GB")
    env.setdefault("PIRAMIDE_DUCKDB_THREADS", "2")
    env["DAGSTER_HOME"] = str(work / "dagster_home")
    # dbt's artefacts (run_results.json, logs) go to the bench folder, not the shared dbt_project/target.
    dbt_target = work / "dbt_target"
    env["DBT_TARGET_PATH"] = str(dbt_target)
    env["DBT_LOG_PATH"] = str(work / "dbt_logs")
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    shutil.rmtree(held, ignore_errors=True)
    piramide = str(BIN / "piramide")
    started = dt.datetime.now()

    # 1. generate
    if args.reuse and inbox.exists() and any(inbox.iterdir()):
        gen = Stage("generate", note="reused")
    else:
        shutil.rmtree(inbox, ignore_errors=True)
        gen = run("generate", [piramide, "generate", "--scale", repr(args.scale), "--years", "2020", "2021",
                               "--seed", str(args.seed), "--out", str(inbox)], env)
    # The last month is held back: the history is loaded and built first, then the one new month is loaded and
    # built incrementally (what a monthly run does), then everything is rebuilt from scratch (the full build).
    held.mkdir(parents=True)
    for p in inbox.glob("*_2021-12.*"):
        p.rename(held / p.name)
    try:
        load_main = run("load (all months but the last)", [piramide, "load", str(inbox)], env)
        history = run("dbt build of the history (all months but the last)", [piramide, "dbt", "build"], env)
    finally:
        for p in held.iterdir():
            p.rename(inbox / p.name)
    load_last = run("load (one new month: 2021-12)", [piramide, "load", str(inbox)], env)
    incremental = run("dbt build, incremental (one new month)", [piramide, "dbt", "build"], env)
    load = Stage("load", load_main.seconds + load_last.seconds, max(load_main.peak_bytes, load_last.peak_bytes),
                 "sum of the two loads above")
    dbt_build = run("dbt build --full-refresh (seeds, models, tests)", [piramide, "dbt", "build", "--full-refresh"],
                    env)
    dbt_models_sum = dbt_model_seconds(dbt_target)
    pipeline_stages = [load, dbt_build]
    if available("orchestration.quality.__main__"):
        checks = run("checks (orchestration.quality)", [PY, "-m", "orchestration.quality"], env, check=False)
    else:
        checks = Stage("checks (orchestration.quality)", note="not available in this tree")
    pipeline_stages.append(checks)
    if available("orchestration.report"):
        report = run("report (HTML, 2021-12)", [piramide, "report", "--period", "2021-12"], env, check=False)
    else:
        report = Stage("report", note="not available")
    pipeline_stages.append(report)
    if available("orchestration.publish_bi"):
        publish = run("publish BI copy", [PY, "-c", "from orchestration.publish_bi import publish; publish()"], env,
                      check=False)
    else:
        publish = Stage("publish BI copy", note="not available")
    pipeline_stages.append(publish)

    # 2-3. the figures' models alone, the floor, the peer: same warehouse, same figures.
    # From the loaded raw tables, from scratch (--full-refresh: the incremental models would otherwise have
    # nothing to do), with their data tests (build), as the issue defines the ratio; `run` (no tests) beside it.
    models = run("dbt build --full-refresh --select " + " ".join(FIGURE_MODELS),
                 [piramide, "dbt", "build", "--full-refresh", "--select", *FIGURE_MODELS], env)
    models_sum = dbt_model_seconds(dbt_target)
    models_run = run("dbt run --full-refresh --select " + " ".join(FIGURE_MODELS),
                     [piramide, "dbt", "run", "--full-refresh", "--select", *FIGURE_MODELS], env)
    pipe = pipeline_figures(warehouse)
    floor = run("floor (bench/floor.sql)", [PY, "-c", FLOOR_RUNNER, str(warehouse), str(ROOT / "bench" / "floor.sql"),
                                            env["PIRAMIDE_MEMORY_LIMIT"], env["PIRAMIDE_DUCKDB_THREADS"]], env)
    floor_res = json.loads(floor.stdout.strip().splitlines()[-1])
    problems = compare("floor", pipe, floor_res["figures"])
    peer_res: dict = {"status": "skipped"}
    peer = Stage("peer (bench/peer_pandas.py)", note="skipped")
    if not args.skip_peer:
        peer = run("peer (bench/peer_pandas.py)", [PY, str(ROOT / "bench" / "peer_pandas.py"), str(inbox),
                                                 str(ROOT / "seeds")], env, check=False,
                   preexec=limit_as(args.peer_limit_gb))
        try:
            peer_res = json.loads(peer.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            # Killed or crashed outside Python's MemoryError (e.g. an allocation failure in a C extension).
            peer_res = {"status": "oom" if "MemoryError" in peer.stdout or "bad_alloc" in peer.stdout
                        or "Unable to allocate" in peer.stdout else "failed", "tail": peer.stdout[-800:]}
        peer.note = peer_res["status"]
        if peer_res["status"] == "ok":
            problems += compare("peer", pipe, peer_res["figures"])
    if problems:
        print("\n".join(problems))
        raise SystemExit("[bench] the implementations disagree: no times reported")
    print("[bench] pipeline, floor" + (" and peer" if peer_res["status"] == "ok" else "") + " agree")

    # 4. one new month: load it, then rebuild (dbt build is a full rebuild today: see results.md).
    total_run = sum(s.seconds for s in pipeline_stages if not math.isnan(s.seconds))
    peak_run = max(s.peak_bytes for s in pipeline_stages)
    write_results(args, started, gen, load_main, load_last, pipeline_stages, dbt_models_sum, models, models_sum,
                  floor, floor_res, peer, peer_res, pipe, total_run, peak_run, history, incremental, models_run)
    print(f"[bench] results: {args.out}")
    return 0


def write_results(args, started, gen, load_main, load_last, pipeline_stages, dbt_models_sum, models, models_sum,
                  floor, floor_res, peer, peer_res, pipe, total_run, peak_run, history, incremental,
                  models_run) -> None:
    rows_line = gen.stdout.strip().splitlines()[-1] if gen.stdout else gen.note
    dbt_build = pipeline_stages[1]
    lines = [
        "# Benchmark results (issue 6)",
        "",
        f"- date: {started:%Y-%m-%d %H:%M}; machine: {machine()}; load average at the start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; absolute times are noisy here: compare the ratios, all "
        "measured in this one run",
        f"- scale {args.scale} (1.0 = the national volume), seed {args.seed}, opening 2019-12, years 2020-2021; "
        f"DuckDB memory_limit {os.environ.get('PIRAMIDE_MEMORY_LIMIT', '6GB')}, "
        f"threads {os.environ.get('PIRAMIDE_DUCKDB_THREADS', '2')}",
        f"- generated: {rows_line}",
        "- peak memory = RSS of the stage's process tree (the process and all its descendants), sampled every 0.2 s",
        "",
        "## Stages",
        "",
        "| stage | wall (s) | peak RSS (GB) | note |",
        "|---|---:|---:|---|",
    ]
    for s in [gen, load_main, history, load_last, incremental, *pipeline_stages]:
        secs = "-" if math.isnan(s.seconds) else f"{s.seconds:.1f}"
        lines.append(f"| {s.name} | {secs} | {fmt_gb(s.peak_bytes)} | {s.note} |")
    lines += [
        f"| **whole run (load + dbt build + checks + report + BI copy)** | **{total_run:.1f}** | "
        f"**{fmt_gb(peak_run)}** | targets: ≤ 600 s, ≤ 8 GB |",
        "",
        f"dbt build --full-refresh: the models' own execution times sum to {dbt_models_sum:.1f} s over dbt's "
        f"{os.environ.get('PIRAMIDE_DBT_THREADS', '2')} threads, in a command of {dbt_build.seconds:.1f} s wall "
        "(which also runs the seeds and tests and includes dbt's start-up and parsing).",
        "",
        "## Baselines: the national December 2021 figures",
        "",
        "| implementation | wall (s) | compute (s) | peak RSS (GB) | note |",
        "|---|---:|---:|---:|---|",
        f"| pipeline: `dbt build --full-refresh --select {' '.join(FIGURE_MODELS)}` | {models.seconds:.1f} | "
        f"{models_sum:.1f} | {fmt_gb(models.peak_bytes)} | compute = sum of the models' execution times "
        "(tests not counted) |",
        f"| pipeline, models only: `dbt run --full-refresh --select ...` | {models_run.seconds:.1f} | - | "
        f"{fmt_gb(models_run.peak_bytes)} | |",
        f"| floor: `bench/floor.sql` (DuckDB, same settings) | {floor.seconds:.1f} | {floor_res['seconds']:.1f} "
        f"| {fmt_gb(floor.peak_bytes)} | compute = the query alone |",
    ]
    peer_secs = peer_res.get("seconds", math.nan)
    lines.append(f"| peer: `bench/peer_pandas.py` (pandas, RLIMIT_AS {args.peer_limit_gb:g} GB) | "
                 f"{peer.seconds:.1f} | {peer_secs:.1f} | {fmt_gb(peer.peak_bytes)} | {peer_res['status']} |")
    lines += ["", "| figure | pipeline | floor | peer |", "|---|---:|---:|---:|"]
    for k in FIGURES:
        pv = peer_res.get("figures", {}).get(k)
        lines.append(f"| {k} | {pipe.get(k)!r} | {floor_res['figures'].get(k)!r} | "
                     f"{'-' if pv is None else repr(pv)} |")
    agreeing = "All three agree" if peer_res.get("figures") else (
        f"The pipeline and the floor agree (the peer has no figures: {peer_res['status']})")
    lines += ["", f"{agreeing} within {REL_TOL:g} relative (asserted before any time is reported).", "",
              "## Ratios", ""]
    lines.append(f"- pipeline ÷ floor = {models.seconds:.1f} / {floor.seconds:.1f} = "
                 f"**{models.seconds / floor.seconds:.2f}** (wall of the dbt command vs the floor's process; "
                 f"compute only: {models_sum:.1f} / {floor_res['seconds']:.1f} = "
                 f"{models_sum / max(floor_res['seconds'], 1e-9):.2f}); target ≤ 3")
    if peer_res["status"] == "ok":
        lines.append(f"- peer ÷ pipeline = {peer.seconds:.1f} / {models.seconds:.1f} = "
                     f"**{peer.seconds / models.seconds:.2f}** (compute only: {peer_secs:.1f} / {models_sum:.1f} = "
                     f"{peer_secs / max(models_sum, 1e-9):.2f}); target ≥ 10 or out of memory")
    else:
        lines.append(f"- peer ÷ pipeline: the peer did not finish ({peer_res['status']}) under its "
                     f"{args.peer_limit_gb:g} GB address-space limit")
    lines.append(f"- pipeline ÷ floor, models only (`dbt run`): {models_run.seconds:.1f} / {floor.seconds:.1f} = "
                 f"**{models_run.seconds / floor.seconds:.2f}**")
    full_load_build = load_main.seconds + load_last.seconds + dbt_build.seconds
    new_month = load_last.seconds + incremental.seconds
    lines += [
        f"- one new month, dbt: incremental build {incremental.seconds:.1f} s ÷ full build {dbt_build.seconds:.1f} s "
        f"= **{100 * incremental.seconds / dbt_build.seconds:.0f} %**; target ≤ 15 %",
        f"- one new month, load + dbt: {load_last.seconds:.1f} + {incremental.seconds:.1f} = {new_month:.1f} s ÷ "
        f"full load + full build {full_load_build:.1f} s = **{100 * new_month / full_load_build:.0f} %**",
    ]
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
