"""Worker processes that end when the process that started them is gone, even by SIGKILL.

A worker of a ``spawn`` process pool holds the write ends of its own queues, so it never reads
end-of-file when its parent dies: a pass killed by the OOM killer or by cron's timeout would
leave its pool waiting forever, one more set after every such pass. Linux's
``PR_SET_PDEATHSIG`` does not fit such a pool either: it fires when the parent *thread* that
started the worker ends, and a pool is started from whichever thread first submits to it.

    >>> ProcessPoolExecutor(initializer=exit_with_parent, initargs=(os.getpid(),))
"""

from __future__ import annotations

import os
import threading

__all__ = ["exit_with_parent"]


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
