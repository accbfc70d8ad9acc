"""Letting a transaction finish when the process is asked to stop.

SIGTERM (Prefect cancelling a run, systemd stopping the service) and SIGINT raise at the next
bytecode, which may fall between a write and its COMMIT, or between sending a mail and marking
it sent (the next pass would send it again). Inside :func:`deferred_termination` they are held
and re-raised as soon as the block ends; Prefect still SIGKILLs a run that takes too long.

    with deferred_termination():
        deliver_and_mark(...)

A command line process would die of SIGTERM on the spot (cron's ``timeout``, systemd): no exit
handler runs, so worker pools and temporary servers are not closed, and multiprocessing reports
their semaphores as leaked on stderr. Inside :func:`sigterm_unwinds` SIGTERM raises
:class:`Terminated` instead, which unwinds like Ctrl-C's ``KeyboardInterrupt``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Terminated", "deferred_termination", "sigterm_unwinds"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread where Ctrl-C would raise ``KeyboardInterrupt``."""


@contextmanager
def sigterm_unwinds() -> Iterator[threading.Event]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread instead of
    ending the process at once; the event yielded is set once it came, however the exception
    was caught and re-raised on its way up (main thread only; elsewhere a no-op)."""
    came = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield came
        return

    def unwind(signum: int, frame: FrameType | None) -> None:
        came.set()
        raise Terminated

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        yield came
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred_termination() -> Iterator[None]:
    """Hold SIGTERM and SIGINT for the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    previous = {s: signal.signal(s, hold) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(held):
            signal.raise_signal(signum)
