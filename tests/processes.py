"""Processes for tests: whether they still run (after a pass is killed), and scripts run as
``__main__``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tests.loopback import wait_for


def running(pid: int) -> bool:
    """True while ``pid`` runs; a zombie has exited (only its parent's reaping is left)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def all_gone(pids: Iterable[int], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for every one of ``pids`` to stop running."""
    pids = list(pids)
    return wait_for(lambda: not any(running(p) for p in pids), timeout=timeout)


def descendants(pid: int) -> list[int]:
    """The pids of every live process below ``pid`` (children, their children, ...)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def run_as_main(directory: Path, script: str) -> list[str]:
    """Run ``script`` as a main script file (as a console script runs); its stdout lines."""
    path = directory / "main_script.py"
    path.write_text(script)
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def with_environment(name: str, value: str) -> list[int]:
    """PIDs of live processes whose environment has ``name=value``: a service's descendants,
    found even once orphaned (adopted by init, they are nobody's children any more)."""
    wanted = f"{name}={value}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and wanted in environ and running(int(entry.name)):
            pids.append(int(entry.name))
    return pids
