"""The one forkserver that a pass's worker processes fork from, with their libraries imported.

The extraction workers (:mod:`newsradar.extract_pool`) and the feed parser's workers
(:mod:`newsradar.feeds`) are forked from a server that imported trafilatura, feedparser and
our modules once and filled trafilatura's lazy caches (:mod:`newsradar.extract_warm`). A worker
then costs a fork, not a fresh interpreter importing its libraries, and it never re-runs the
caller's ``__main__``: multiprocessing would otherwise re-import the main script in every
child, which for the ``newsradar`` console script is the whole CLI (about 1 s of CPU per
worker) and for a served flow run is Prefect's engine.

    ctx = forkserver.context()
    with forkserver.main_module_hidden():
        ctx.Process(target=work).start()
    # in the child, first thing:
    forkserver.die_with_pass()

Where there is no forkserver (not POSIX), workers are spawned instead.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.forkserver
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from newsradar.lifeline import exit_with_parent, signal_when_parent_dies

__all__ = ["PRELOAD", "context", "die_with_pass", "main_module_hidden"]

# Imported by the server before it forks anything.
PRELOAD = ["newsradar.feeds", "newsradar.extract", "newsradar.extract_warm"]
_MAIN_LOCK = threading.Lock()


def context(start_method: str | None = None) -> Any:
    """The forkserver context (preloading :data:`PRELOAD`), or spawn where there is none."""
    methods = mp.get_all_start_methods()
    method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """Start processes without making them re-run the caller's ``__main__``.

    multiprocessing re-imports the parent's main script in every child. Workers need nothing
    from it, and it may be a console script that imports the whole CLI, Prefect's engine, a
    notebook, or stdin (which cannot be re-imported at all and would kill every worker at
    birth).
    """
    main = sys.modules.get("__main__")
    with _MAIN_LOCK:
        saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if hasattr(main, k)}
        try:
            if main is not None:
                main.__spec__ = None
                if "__file__" in saved:
                    del main.__file__
            yield
        finally:
            for key, value in saved.items():
                setattr(main, key, value)


def die_with_pass() -> None:
    """Make this worker end when the pass's process dies, even by SIGKILL; call it first
    thing in the worker.

    A forked worker is a child of the forkserver, which exits once no process holds its
    "alive" fd; but every child inherits that fd, so a worker spinning on a hung page would
    keep the forkserver, and itself, alive for good. Drop the fd (workers start no processes),
    and ask Linux to SIGKILL us when our parent goes (PR_SET_PDEATHSIG). Elsewhere, a thread
    watches for the parent to change.
    """
    server = getattr(mp.forkserver, "_forkserver", None)  # type: ignore[attr-defined]
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass
        server._forkserver_alive_fd = None  # type: ignore[union-attr]
    parent = os.getppid()
    if not signal_when_parent_dies(signal.SIGKILL):  # pragma: no cover - not Linux
        exit_with_parent(parent)
        return
    if os.getppid() != parent or parent == 1:  # the parent was gone before we asked
        os._exit(1)
