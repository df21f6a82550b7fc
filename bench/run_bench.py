"""National-scale benchmark (issues 6 and 13): `make bench`, by hand only (never in CI, never collected by pytest).

Generates a scale (default 1.0) of the opening month and two years into bench/work/inbox (once: an inbox whose
generator manifest, `.sample.json`, names the same scale, seed and years is reused), then runs every stage as a
subprocess, measuring wall time and peak memory (RSS of the process tree, sampled from /proc every 0.2 s): the
history, then one new month as a monthly run does it (load, incremental dbt build, checks of the month, report,
BI copy), then the full run (dbt build --full-refresh, checks, report, BI copy). On the same warehouse it times
the baselines: the load floor (bench/floor_load.py, a plain insert of the same files), the SQL floor
(bench/floor.sql) and the peer (bench/peer_pandas.py, pandas under RLIMIT_AS) against
`dbt build --select +<the models producing the figures>`, asserts they give the same national December 2021
figures and writes bench/results.md with the commit measured. One line per stage on the console.

    .venv/bin/python bench/run_bench.py [--scale 0.1] [--work DIR] [--out FILE] [--reuse] [--skip-peer]
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
    # One line per stage: its name now, its time when it ends (a person watching sees what is running).
    print(f"[bench] {name} ...", end="", flush=True)
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
            print(f" failed (exit {proc.returncode})\n{out[-5000:]}")
            raise SystemExit(f"[bench] stage {name} failed (exit {proc.returncode}); command: {' '.join(cmd)}")
    print(f" {stage.seconds:.1f} s, peak {stage.peak_bytes / 1e9:.2f} GB{'  ' + stage.note if stage.note else ''}",
          flush=True)
    return stage


# --- stages --------------------------------------------------------------------------------------------------
def available(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def dbt_node_seconds(target: Path) -> dict[str, float]:
    """Execution time of every node of the last dbt command (run_results.json), by unique id."""
    res = json.loads((target / "run_results.json").read_text())
    return {r["unique_id"]: r.get("execution_time") or 0.0 for r in res["results"]}


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


YEARS = (2020, 2021)
NEW_MONTH = "2021-12"


def generated(inbox: Path) -> dict | None:
    """The generator's manifest of the inbox (written last, so only a complete generation has one)."""
    sys.path.insert(0, str(ROOT))
    from orchestration.config import SAMPLE_MANIFEST

    try:
        return json.loads((inbox / SAMPLE_MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def same_generation(manifest: dict | None, scale: float, seed: int) -> bool:
    return bool(manifest) and (float(manifest.get("scale", -1)), manifest.get("seed"),
                               list(manifest.get("years", []))) == (scale, seed, list(YEARS))


def commit() -> str:
    """The commit measured: `git rev-parse --short HEAD`, plus "dirty" when tracked files have changes."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--work", type=Path, default=None,
                    help="default bench/work at scale 1, bench/work/scale-<S> otherwise (a quick run never "
                         "replaces the national inbox)")
    ap.add_argument("--out", type=Path, default=None,
                    help="default bench/results.md at scale 1, <work>/results.md otherwise")
    ap.add_argument("--reuse", action="store_true",
                    help="keep whatever inbox a previous run generated (by default it is reused only when its "
                         ".sample.json names the same scale, seed and years)")
    ap.add_argument("--peer-limit-gb", type=float, default=16.0)
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()

    work = (args.work or ROOT / "bench" / "work" / ("" if args.scale == 1.0 else f"scale-{args.scale:g}")).resolve()
    args.out = args.out or (ROOT / "bench" / "results.md" if args.scale == 1.0 else work / "results.md")
    inbox, held = work / "inbox", work / "held_back"
    warehouse = work / "warehouse" / "piramide.duckdb"
    # A run killed while the last month was held back left its files there: they belong to the inbox.
    if held.exists():
        for p in held.iterdir():
            p.rename(inbox / p.name)
    shutil.rmtree(held, ignore_errors=True)
    manifest = generated(inbox)
    reuse = inbox.exists() and any(inbox.iterdir()) and (args.reuse or same_generation(manifest, args.scale,
                                                                                       args.seed))
    if reuse and manifest and not same_generation(manifest, args.scale, args.seed):
        print(f"[bench] --reuse: the inbox holds scale {manifest.get('scale')}, seed {manifest.get('seed')}, "
              f"years {manifest.get('years')}: measuring that", flush=True)
        args.scale, args.seed = float(manifest["scale"]), int(manifest["seed"])
    env = dict(os.environ)
    env.update(PIRAMIDE_INBOX=str(inbox), PIRAMIDE_WAREHOUSE=str(warehouse), PIRAMIDE_REPORTS=str(work / "reports"),
               PIRAMIDE_TARGET_SCALE=repr(args.scale))
    env.setdefault("PIRAMIDE_MEMORY_LIMIT", "6GB")
    env.setdefault("PIRAMIDE_DUCKDB_THREADS", "2")
    # The generator has finished writing every file: no file needs to wait for the inbox's settle time.
    env["PIRAMIDE_INBOX_SETTLE_SECONDS"] = "0"
    env["DAGSTER_HOME"] = str(work / "dagster_home")
    # dbt's artefacts (run_results.json, logs) go to the bench folder, not the shared dbt_project/target.
    dbt_target = work / "dbt_target"
    env["DBT_TARGET_PATH"] = str(dbt_target)
    env["DBT_LOG_PATH"] = str(work / "dbt_logs")
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    piramide = str(BIN / "piramide")
    started = dt.datetime.now()
    measured = commit()
    print(f"[bench] scale {args.scale:g}, seed {args.seed}, work {work}, commit {measured}", flush=True)

    # 1. generate
    if reuse:
        gen = Stage("generate", note="reused" + ("" if manifest else " (no .sample.json: --reuse)"))
        print(f"[bench] generate: reused {inbox}", flush=True)
    else:
        shutil.rmtree(inbox, ignore_errors=True)
        gen = run("generate", [piramide, "generate", "--scale", repr(args.scale), "--years", *map(str, YEARS),
                               "--seed", str(args.seed), "--out", str(inbox)], env)
    # The last month is held back: the history is loaded and built first, then the one new month is loaded,
    # built incrementally, checked, reported and published (what a monthly run does), then everything is rebuilt
    # from scratch and checked, reported and published again (the full run).
    held.mkdir(parents=True)
    for p in inbox.glob(f"*_{NEW_MONTH}.*"):
        p.rename(held / p.name)
    try:
        load_main = run("load (all months but the last)", [piramide, "load", str(inbox)], env)
        history = run("dbt build of the history (all months but the last)", [piramide, "dbt", "build"], env)
    finally:
        for p in held.iterdir():
            p.rename(inbox / p.name)
        held.rmdir()
    publish_cmd = [PY, "-c", "from orchestration.publish_bi import publish; publish()"]
    load_last = run(f"load (one new month: {NEW_MONTH})", [piramide, "load", str(inbox)], env)
    incremental = run("dbt build, incremental (one new month)", [piramide, "dbt", "build"], env)
    incremental_nodes = dbt_node_seconds(dbt_target)
    month_checks = run("checks of the new month (orchestration.quality --months)",
                       [PY, "-m", "orchestration.quality", "--months", NEW_MONTH, NEW_MONTH], env, check=False)
    month_report = run(f"report (HTML, {NEW_MONTH}), new month", [piramide, "report", "--period", NEW_MONTH], env,
                       check=False)
    month_publish = run("publish BI copy, new month", publish_cmd, env, check=False)
    month_stages = [load_last, incremental, month_checks, month_report, month_publish]

    load = Stage("load", load_main.seconds + load_last.seconds, max(load_main.peak_bytes, load_last.peak_bytes),
                 "sum of the two loads above")
    dbt_build = run("dbt build --full-refresh (seeds, models, tests)", [piramide, "dbt", "build", "--full-refresh"],
                    env)
    dbt_models_sum = dbt_model_seconds(dbt_target)
    full_nodes = dbt_node_seconds(dbt_target)
    checks = run("checks (orchestration.quality)", [PY, "-m", "orchestration.quality"], env, check=False)
    report = run(f"report (HTML, {NEW_MONTH})", [piramide, "report", "--period", NEW_MONTH], env, check=False)
    publish = run("publish BI copy", publish_cmd, env, check=False)
    pipeline_stages = [load, dbt_build, checks, report, publish]

    # 2-3. the figures' models alone, the floors, the peer: same warehouse, same figures.
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
    floor_db = work / "floor" / "floor.duckdb"
    floor_db.parent.mkdir(parents=True, exist_ok=True)
    load_floor = run("load floor (bench/floor_load.py)",
                     [PY, str(ROOT / "bench" / "floor_load.py"), str(inbox), str(warehouse), str(floor_db)], env)
    load_floor_res = json.loads(load_floor.stdout.strip().splitlines()[-1])
    shutil.rmtree(floor_db.parent, ignore_errors=True)
    rows_read = loaded_rows(warehouse)
    if load_floor_res["rows"] != rows_read:
        problems.append(f"the load floor inserted {load_floor_res['rows']:,} rows, the loader read {rows_read:,}")
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
    print("[bench] pipeline, floor" + (" and peer" if peer_res["status"] == "ok" else "") + " agree; the load floor "
          f"inserted the {rows_read:,} rows the loader read")

    r = Results(args=args, started=started, commit=measured, gen=gen, load_main=load_main, history=history,
                month_stages=month_stages, pipeline_stages=pipeline_stages, dbt_models_sum=dbt_models_sum,
                incremental_nodes=incremental_nodes, full_nodes=full_nodes,
                models=models, models_sum=models_sum, models_run=models_run, floor=floor, floor_res=floor_res,
                load_floor=load_floor, load_floor_res=load_floor_res, peer=peer, peer_res=peer_res, pipe=pipe)
    args.out.write_text(r.markdown())
    print(f"[bench] whole run {r.total_run:.1f} s; one new month {r.month_run:.1f} s "
          f"({100 * r.month_run / r.total_run:.0f} %); load / load floor {r.load_ratio:.2f}; results: {args.out}")
    return 0


def loaded_rows(warehouse: Path) -> int:
    """Rows the loader read from the current deliveries (what the load floor inserts)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return int(con.execute("select coalesce(sum(rows_read), 0) from audit.load_ledger "
                               "where outcome in ('loaded', 'restated')").fetchone()[0])
    finally:
        con.close()


def _secs(s: Stage) -> str:
    return "-" if math.isnan(s.seconds) else f"{s.seconds:.1f}"


def _sum(stages: list[Stage]) -> float:
    return sum(s.seconds for s in stages if not math.isnan(s.seconds))


@dataclass
class Results:
    args: argparse.Namespace
    started: dt.datetime
    commit: str
    gen: Stage
    load_main: Stage
    history: Stage
    month_stages: list[Stage]
    pipeline_stages: list[Stage]
    dbt_models_sum: float
    incremental_nodes: dict[str, float]
    full_nodes: dict[str, float]
    models: Stage
    models_sum: float
    models_run: Stage
    floor: Stage
    floor_res: dict
    load_floor: Stage
    load_floor_res: dict
    peer: Stage
    peer_res: dict
    pipe: dict

    @property
    def total_run(self) -> float:
        return _sum(self.pipeline_stages)

    @property
    def month_run(self) -> float:
        return _sum(self.month_stages)

    @property
    def load_ratio(self) -> float:
        return self.pipeline_stages[0].seconds / self.load_floor.seconds

    def dbt_breakdown(self, top: int = 10) -> list[str]:
        """Where the dbt time goes: the costliest nodes of the incremental build beside the full one."""
        inc, full = self.incremental_nodes, self.full_nodes
        lines = ["## Where the dbt time goes", "",
                 "Execution time of each node (run_results.json; the monthly build runs two nodes at a time, so its "
                 "sums exceed its wall time; the full refresh runs one at a time), the costliest of the incremental "
                 "build first.", "",
                 "| node | one new month (s) | full refresh (s) | share |", "|---|---:|---:|---:|"]
        for uid in sorted(inc, key=lambda u: -inc[u])[:top]:
            f = full.get(uid, math.nan)
            kind, _, name, *_ = uid.split(".")  # test ids end in a hash: the name is the third part
            share = 100 * inc[uid] / f if f else math.nan
            lines.append(f"| {kind} `{name}` | {inc[uid]:.1f} | {f:.1f} | {share:.0f} % |")
        for kind in ("model", "test", "seed"):
            a = sum(v for u, v in inc.items() if u.startswith(kind + "."))
            b = sum(v for u, v in full.items() if u.startswith(kind + "."))
            n = sum(1 for u in inc if u.startswith(kind + "."))
            lines.append(f"| all {n} {kind}s | {a:.1f} | {b:.1f} | {100 * a / b if b else math.nan:.0f} % |")
        return lines + [""]

    def markdown(self) -> str:
        args, gen, peer_res = self.args, self.gen, self.peer_res
        load, dbt_build, _, _, publish = self.pipeline_stages
        load_last, incremental, *_ = self.month_stages
        month_publish = self.month_stages[-1]
        rows_line = gen.stdout.strip().splitlines()[-1] if gen.stdout else gen.note
        peak_run = max(s.peak_bytes for s in self.pipeline_stages)
        lines = [
            "# Benchmark results (issues 6 and 13)",
            "",
            f"- commit measured: `{self.commit}`; written by `bench/run_bench.py`",
            f"- date: {self.started:%Y-%m-%d %H:%M}; machine: {machine()}; load average at the start "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; absolute times are noisy here: compare the ratios, "
            "all measured in this one run",
            f"- scale {args.scale:g} (1.0 = the national volume), seed {args.seed}, opening 2019-12, years "
            f"{YEARS[0]}-{YEARS[-1]}; DuckDB memory_limit {os.environ.get('PIRAMIDE_MEMORY_LIMIT', '6GB')}, "
            f"threads {os.environ.get('PIRAMIDE_DUCKDB_THREADS', '2')}",
            f"- generated: {rows_line}",
            "- peak memory = RSS of the stage's process tree (the process and all its descendants), sampled every "
            "0.2 s",
            "",
            "## Stages",
            "",
            "| stage | wall (s) | peak RSS (GB) | note |",
            "|---|---:|---:|---|",
        ]
        for s in [gen, self.load_main, self.history]:
            lines.append(f"| {s.name} | {_secs(s)} | {fmt_gb(s.peak_bytes)} | {s.note} |")
        lines.append("| *one new month (a monthly run)* | | | |")
        for s in self.month_stages:
            lines.append(f"| {s.name} | {_secs(s)} | {fmt_gb(s.peak_bytes)} | {s.note} |")
        lines.append(f"| **one new month, whole run** | **{self.month_run:.1f}** | "
                     f"**{fmt_gb(max(s.peak_bytes for s in self.month_stages))}** | target ≤ 10 % of the full run |")
        lines.append("| *full run (full history)* | | | |")
        for s in self.pipeline_stages:
            lines.append(f"| {s.name} | {_secs(s)} | {fmt_gb(s.peak_bytes)} | {s.note} |")
        lines += [
            f"| **whole run (load + dbt build + checks + report + BI copy)** | **{self.total_run:.1f}** | "
            f"**{fmt_gb(peak_run)}** | targets: ≤ 600 s, ≤ 8 GB |",
            "",
            f"dbt build --full-refresh: the models' own execution times sum to {self.dbt_models_sum:.1f} s "
            f"(one node at a time, `PIRAMIDE_DBT_FULL_REFRESH_THREADS`), in a command of "
            f"{dbt_build.seconds:.1f} s wall (which also runs the seeds and tests and includes dbt's start-up and "
            "parsing).",
            "",
            *self.dbt_breakdown(),
            "## Floors and peer",
            "",
            "| implementation | wall (s) | compute (s) | peak RSS (GB) | note |",
            "|---|---:|---:|---:|---|",
            f"| load: `piramide load` (the two loads above) | {load.seconds:.1f} | - | {fmt_gb(load.peak_bytes)} | "
            f"{self.load_floor_res['rows']:,} rows, {self.load_floor_res['files']} files |",
            f"| load floor: `bench/floor_load.py` (plain insert into raw's types, one transaction per file, same "
            f"settings) | {self.load_floor.seconds:.1f} | {self.load_floor_res['seconds']:.1f} | "
            f"{fmt_gb(self.load_floor.peak_bytes)} | compute = the inserts alone |",
            f"| pipeline: `dbt build --full-refresh --select {' '.join(FIGURE_MODELS)}` | {self.models.seconds:.1f} "
            f"| {self.models_sum:.1f} | {fmt_gb(self.models.peak_bytes)} | compute = sum of the models' execution "
            "times (tests not counted) |",
            f"| pipeline, models only: `dbt run --full-refresh --select ...` | {self.models_run.seconds:.1f} | - | "
            f"{fmt_gb(self.models_run.peak_bytes)} | |",
            f"| SQL floor: `bench/floor.sql` (DuckDB, same settings) | {self.floor.seconds:.1f} | "
            f"{self.floor_res['seconds']:.1f} | {fmt_gb(self.floor.peak_bytes)} | compute = the query alone |",
        ]
        peer_secs = peer_res.get("seconds", math.nan)
        lines.append(f"| peer: `bench/peer_pandas.py` (pandas, RLIMIT_AS {args.peer_limit_gb:g} GB) | "
                     f"{self.peer.seconds:.1f} | {peer_secs:.1f} | {fmt_gb(self.peer.peak_bytes)} | "
                     f"{peer_res['status']} |")
        lines += ["", "| figure | pipeline | floor | peer |", "|---|---:|---:|---:|"]
        for k in FIGURES:
            pv = peer_res.get("figures", {}).get(k)
            lines.append(f"| {k} | {self.pipe.get(k)!r} | {self.floor_res['figures'].get(k)!r} | "
                         f"{'-' if pv is None else repr(pv)} |")
        agreeing = "All three agree" if peer_res.get("figures") else (
            f"The pipeline and the floor agree (the peer has no figures: {peer_res['status']})")
        lines += ["", f"{agreeing} within {REL_TOL:g} relative, and the load floor inserted the "
                  f"{self.load_floor_res['rows']:,} rows the loader read (asserted before any time is reported).",
                  "", "## Ratios", ""]
        m, f = self.models, self.floor
        lines.append(f"- load ÷ load floor = {load.seconds:.1f} / {self.load_floor.seconds:.1f} = "
                     f"**{self.load_ratio:.2f}**; target ≤ 1.5")
        lines.append(f"- pipeline ÷ floor = {m.seconds:.1f} / {f.seconds:.1f} = **{m.seconds / f.seconds:.2f}** "
                     f"(wall of the dbt command vs the floor's process; compute only: {self.models_sum:.1f} / "
                     f"{self.floor_res['seconds']:.1f} = {self.models_sum / max(self.floor_res['seconds'], 1e-9):.2f})"
                     "; target ≤ 2.5")
        if peer_res["status"] == "ok":
            lines.append(f"- peer ÷ pipeline = {self.peer.seconds:.1f} / {m.seconds:.1f} = "
                         f"**{self.peer.seconds / m.seconds:.2f}** (compute only: {peer_secs:.1f} / "
                         f"{self.models_sum:.1f} = {peer_secs / max(self.models_sum, 1e-9):.2f}); target ≥ 10 or out "
                         "of memory")
        else:
            lines.append(f"- peer ÷ pipeline: the peer did not finish ({peer_res['status']}) under its "
                         f"{args.peer_limit_gb:g} GB address-space limit")
        lines.append(f"- pipeline ÷ floor, models only (`dbt run`): {self.models_run.seconds:.1f} / {f.seconds:.1f} "
                     f"= **{self.models_run.seconds / f.seconds:.2f}**")
        full_load_build = load.seconds + dbt_build.seconds
        new_month = load_last.seconds + incremental.seconds
        lines += [
            f"- one new month, whole run (load + dbt + checks + report + BI copy): {self.month_run:.1f} s ÷ full run "
            f"{self.total_run:.1f} s = **{100 * self.month_run / self.total_run:.0f} %**; target ≤ 10 %",
            f"- one new month, dbt: incremental build {incremental.seconds:.1f} s ÷ full build "
            f"{dbt_build.seconds:.1f} s = **{100 * incremental.seconds / dbt_build.seconds:.0f} %**; target ≤ 15 %",
            f"- one new month, load + dbt: {load_last.seconds:.1f} + {incremental.seconds:.1f} = {new_month:.1f} s ÷ "
            f"full load + full build {full_load_build:.1f} s = **{100 * new_month / full_load_build:.0f} %**",
            f"- BI copy: {publish.seconds:.1f} s after the full run, {month_publish.seconds:.1f} s after the new "
            "month; target ≤ 10 s",
            f"- peak memory of the process tree: {fmt_gb(peak_run)} GB; target ≤ 8 GB",
        ]
        return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
