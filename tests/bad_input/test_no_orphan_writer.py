"""No orphan writer: SIGKILL to a long-running command leaves no process holding the warehouse (issue 16).

`piramide dbt` execs dbt, so the signal reaches dbt itself; `piramide run` and `piramide whatif` start dbt as
a child through `piramide-dbt`, which the kernel kills with its parent (PR_SET_PDEATHSIG). Who holds the file
is read from /proc (open file descriptors), never by opening it: a probe would itself take the lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.system,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

PIRAMIDE = str(Path(sys.executable).parent / "piramide")


def holders(path: Path) -> set[int]:
    """PIDs with the file open."""
    target = str(path.resolve())
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) == target for fd in (proc / "fd").iterdir()):
                found.add(int(proc.name))
        except OSError:
            continue
    return found


def wait_until(predicate, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


COMMANDS = {
    # command, and whether the process holding the file is the command itself (exec) or a child (dbt)
    "dbt": (["dbt", "build", "--exclude", "test_type:unit"], "self"),
    "run": (["run"], "child"),
    "whatif": (["whatif", "--set", "PG_PROCESSI.weight=0.3"], "child"),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_sigkill_leaves_no_process_holding_the_warehouse(name, sample_copy):
    args, holder = COMMANDS[name]
    wh = sample_copy.warehouse
    env = dict(os.environ, PIRAMIDE_WAREHOUSE=str(wh), PIRAMIDE_INBOX=str(sample_copy.inbox),
               DAGSTER_HOME=str(sample_copy.tmp / "dagster_home"), DBT_TARGET_PATH=str(sample_copy.tmp / "target"),
               DBT_LOG_PATH=str(sample_copy.tmp / "dbt_logs"))
    (sample_copy.tmp / "dagster_home").mkdir(exist_ok=True)
    proc = subprocess.Popen([PIRAMIDE, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if holder == "self":
            seen = wait_until(lambda: proc.pid in holders(wh) and {proc.pid}, 60)
        else:
            seen = wait_until(lambda: holders(wh) - {proc.pid}, 90)
        assert seen, f"piramide {name} never opened the warehouse (exit {proc.poll()})"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        freed = wait_until(lambda: not holders(wh), 10)
        assert freed, f"still holding {wh} after SIGKILL to piramide {name}: {holders(wh)}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
