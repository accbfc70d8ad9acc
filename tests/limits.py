"""Real faults for write paths: a child process whose files may not grow past a size.

With ``RLIMIT_FSIZE`` the kernel refuses a write past the limit with ``EFBIG``, as a full disk
refuses one with ``ENOSPC``: the write fails part way, exactly where a crash would hurt.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["run_file_size_limited"]

ROOT = Path(__file__).resolve().parents[1]


def run_file_size_limited(
    args: Sequence[str], limit: int, *, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``python args...`` where no file can be written past ``limit`` bytes."""

    def limited() -> None:
        # Ignored, SIGXFSZ no longer kills the child: its write fails with EFBIG instead.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # No .pyc either: the limit is for the file under test, not for the interpreter's cache.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd, env=env, preexec_fn=limited, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
