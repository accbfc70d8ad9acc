"""An OS-level lock around the writing pass: never two writers, even if Prefect's slots leak.

``flock`` locks die with their process, so a pass killed with SIGKILL leaves nothing that blocks
the next one; the PID written into the file only serves the error message.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from newsradar.errors import RunLockedError

__all__ = ["pass_lock", "run_lock"]

# What sets the wait of the commands: named in the message as the fix for a long pass.
_SETTING = "[storage] lock_timeout"


@contextmanager
def run_lock(
    path: Path, *, wait: float = 0.0, task: str = "this pass", setting: str = _SETTING
) -> Iterator[None]:
    """Hold ``path`` exclusively for the block; raise RunLockedError after ``wait`` seconds.

    ``task`` names what is skipped then, and ``setting`` what sets ``wait``, in the message.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    waited = (
                        f" after waiting {wait:g} s for it; run it again once that pass has "
                        f"finished, or raise {setting}"
                    )
                    raise RunLockedError(
                        f"another pass (PID {holder}) is running against this database "
                        f"(lock {path}); {task} was skipped" + (waited if wait else "")
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def pass_lock(
    database: Path, *, wait: float = 0.0, task: str = "this pass", setting: str = _SETTING
) -> AbstractContextManager[None]:
    """The run lock of whatever writes ``database`` in a pass: ``<database>.lock`` beside it
    (one name for the flows, ``newsradar alerts send`` and ``newsradar rematch``, so that
    they exclude each other)."""
    return run_lock(database.with_suffix(".lock"), wait=wait, task=task, setting=setting)
