"""Child processes that end when the process that started them is gone, even by SIGKILL.

Two ways: :func:`signal_when_parent_dies` (Linux's ``PR_SET_PDEATHSIG``) for a process
started from a known thread, like the workers of the pass's forkserver (which forks from its
one thread, see :mod:`newsradar.forkserver`) or a server started with ``preexec_fn``;
:func:`exit_with_parent`, a thread watching the parent's pid, where there is no
``PR_SET_PDEATHSIG``.

A pool worker holds the write ends of its own queues, so it never reads end-of-file when its
parent dies: a pass killed by the OOM killer or by cron's timeout would leave its pool waiting
forever, one more set after every such pass.

    >>> subprocess.Popen(args, preexec_fn=lambda: signal_when_parent_dies(signal.SIGTERM))
    >>> exit_with_parent(os.getppid())   # first thing in the child
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

__all__ = ["exit_with_parent", "signal_when_parent_dies"]

_PR_SET_PDEATHSIG = 1


def signal_when_parent_dies(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when the thread that started it ends.

    False where that cannot be asked (not Linux).
    """
    if not sys.platform.startswith("linux"):  # pragma: no cover - not Linux
        return False
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return False
    return True


def exit_with_parent(parent: int, poll: float = 0.5) -> None:
    """Exit this process as soon as its parent is no longer ``parent`` (the pid of the process
    that started it, passed in: a worker killed with its parent while still starting up
    already sees the adoptive parent here). Watches from a daemon thread."""

    def watch() -> None:
        tick = threading.Event()
        while os.getppid() == parent:
            tick.wait(poll)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
