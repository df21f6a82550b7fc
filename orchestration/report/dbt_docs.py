"""`piramide docs`: the dbt documentation site of the warehouse, written beside the report.

`--static` embeds the manifest and the catalogue in one `static_index.html`, which a browser opens from disk
(the plain `index.html` fetches JSON files, which browsers refuse over file://). A separate target path keeps
the project's own target/ (the manifest Dagster reads) untouched.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR, dbt_env, settings


@dataclass(frozen=True)
class DocsResult:
    folder: Path
    index: Path
    seconds: float


class DocsError(RuntimeError):
    pass


def generate_docs(out: Path | None = None) -> DocsResult:
    from orchestration.warehouse.dbt import run_dbt

    t0 = time.perf_counter()
    folder = Path(out) if out else settings().reports_dir / "dbt_docs"
    folder.mkdir(parents=True, exist_ok=True)
    # A full parse costs tens of seconds; the project's own partial-parse state (same files, same profile in a
    # run) lets dbt re-parse only what changed. dbt discards it by itself when it does not match.
    seed_state = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    state = folder / "partial_parse.msgpack"
    if seed_state.exists() and (not state.exists() or state.stat().st_mtime < seed_state.stat().st_mtime):
        shutil.copyfile(seed_state, state)
    env = dbt_env()
    env["DBT_LOG_PATH"] = str(folder / "logs")
    proc = run_dbt("--quiet", "docs", "generate", "--static", "--target-path", str(folder), env=env)
    index = folder / "static_index.html"
    if proc.returncode != 0 or not index.exists():
        raise DocsError(f"dbt docs generate failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return DocsResult(folder, index, time.perf_counter() - t0)
