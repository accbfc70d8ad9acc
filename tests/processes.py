"""Whether processes are still running: for tests that kill a pass and look for leftovers."""

from __future__ import annotations

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
