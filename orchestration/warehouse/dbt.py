"""Running dbt against the warehouse, one way: the same command line and environment, and no orphan writer.

dbt holds the warehouse's write lock while it runs. Started as a child (by Dagster's dbt resource, a what-if,
the docs, the tests), it would outlive a parent killed with SIGKILL and keep the lock; so every child dbt is
started through `piramide-dbt`, a tiny console script that asks the kernel to kill it with its parent
(prctl PR_SET_PDEATHSIG) and then execs the real dbt. `piramide dbt` itself execs dbt: the command *is* dbt.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR, dbt_env

WRAPPER = "piramide-dbt"
# dbt commands that never open the warehouse: no lock to probe before them.
_NO_WAREHOUSE = {"parse", "deps", "clean", "debug", "init", "list", "ls"}


def real_dbt() -> str:
    """The dbt next to this interpreter, so an unactivated venv still finds it."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


def dbt_executable() -> str:
    """What to start as dbt: the wrapper that dies with its parent (installed with the package), else dbt."""
    wrapper = Path(sys.executable).parent / WRAPPER
    return str(wrapper) if wrapper.exists() else real_dbt()


FULL_REFRESH_THREADS_ENV = "PIRAMIDE_DBT_FULL_REFRESH_THREADS"


def project_args(args: list[str] | tuple[str, ...]) -> list[str]:
    """The arguments after `dbt`: the caller's, the project and profile folders, and a full refresh's threads.

    A full refresh rebuilds the two latest-state tables from the whole extract history; side by side they fight
    over the two cores and the memory limit, and one after the other they finish sooner (at the national volume
    218 s for the whole `dbt build --full-refresh` with one dbt thread against 266 s with two). A monthly
    (incremental) build keeps the profile's threads: its nodes are small and overlap well. An explicit
    `--threads` wins; `PIRAMIDE_DBT_FULL_REFRESH_THREADS` (default 1) sets the full refresh's.
    """
    extra = []
    if "--full-refresh" in args and "--threads" not in args:
        extra = ["--threads", str(int(os.environ.get(FULL_REFRESH_THREADS_ENV) or 1))]
    return [*args, *extra, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]


def dbt_command(*args: str) -> list[str]:
    """dbt with these arguments against the project and its profile (the profile reads PIRAMIDE_WAREHOUSE)."""
    return [dbt_executable(), *project_args(args)]


def run_dbt(*args: str, env: dict[str, str] | None = None, capture: bool = True,
            timeout: float | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run dbt as a child (killed with this process) and wait for it (in `cwd`, default the project folder)."""
    return subprocess.run(dbt_command(*args), env=env or dbt_env(), cwd=cwd or DBT_PROJECT_DIR,
                          capture_output=capture, text=True, timeout=timeout, check=False)


def touches_warehouse(args: list[str]) -> bool:
    """Whether a dbt command line opens the warehouse (worth probing its lock first)."""
    words = [a for a in args if not a.startswith("-")]
    return bool(words) and words[0] not in _NO_WAREHOUSE and not {"--version", "--help", "-h"} & set(args)


def exec_dbt(args: list[str]) -> None:
    """Replace this process with dbt (never returns): a signal to the command reaches dbt itself."""
    cmd = [real_dbt(), *project_args(args)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(DBT_PROJECT_DIR)
    os.execvpe(cmd[0], cmd, dbt_env())


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere nothing happens)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(128 + int(signal.SIGKILL))


def child_main() -> None:
    """`piramide-dbt ARGS`: dbt ARGS, killed with its parent. The death signal survives the exec."""
    die_with_parent()
    cmd = [real_dbt(), *sys.argv[1:]]
    os.execv(cmd[0], cmd)
