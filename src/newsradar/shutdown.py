"""Letting a transaction finish when the process is asked to stop.

SIGTERM (Prefect cancelling a run, systemd stopping the service) and SIGINT raise at the next
bytecode, which may fall between a write and its COMMIT, or between sending a mail and marking
it sent (the next pass would send it again). Inside :func:`deferred_termination` they are held
and re-raised as soon as the block ends; Prefect still SIGKILLs a run that takes too long.

    with deferred_termination():
        deliver_and_mark(...)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["deferred_termination"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


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
