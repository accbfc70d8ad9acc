"""Progress reporting for long stages, without tying the pipeline to a display.

The pipeline calls ``progress(stage, done, total)`` with stage ``"feeds"``, ``"pages"`` or
``"extraction"``; ``newsradar run`` draws Rich bars on a terminal and logs otherwise. Calls may
come from worker threads.

    pipeline.poll_feeds(config, ctx, progress=lambda stage, done, total: print(stage, done))
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn
from rich.progress import Progress as Bars

__all__ = ["Progress", "Ticker", "current", "pass_progress", "reporting"]

Progress = Callable[[str, int, int], None]
T = TypeVar("T")

# The display of the process's interactive pass: flow tasks cannot take a callable parameter
# (their parameters are plain data), so `newsradar run` installs it here for the pass.
_current: Progress | None = None


@contextmanager
def reporting(progress: Progress | None) -> Iterator[None]:
    """Make ``progress`` what :func:`current` returns for the duration of the block."""
    global _current
    previous, _current = _current, progress
    try:
        yield
    finally:
        _current = previous


def current() -> Progress | None:
    return _current


class Ticker:
    """Counts finished items of one stage and reports each step (a no-op without a callback)."""

    def __init__(self, progress: Progress | None, stage: str, total: int) -> None:
        self._progress = progress
        self._stage = stage
        self._total = total
        self._done = 0
        self._lock = threading.Lock()
        if progress is not None:
            progress(stage, 0, total)

    def tick(self, count: int = 1) -> None:
        if self._progress is None:
            return
        with self._lock:
            self._done += count
            done = self._done
        self._progress(self._stage, done, self._total)

    async def wrap(self, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        finally:
            self.tick()


log = logging.getLogger("newsradar.progress")


@contextmanager
def _bars(console: Console) -> Iterator[None]:
    columns = (TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn())
    lock = threading.Lock()
    with Bars(*columns, console=console, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            with lock:
                if stage not in tasks:
                    tasks[stage] = bars.add_task(stage, total=total)
                bars.update(tasks[stage], completed=done, total=total)

        with reporting(update):
            yield


@contextmanager
def _log_lines() -> Iterator[None]:
    # Prefect's root handler is set to WARNING for `newsradar run`; these lines are INFO.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    def step(stage: str, done: int, total: int) -> None:
        if done == total:
            log.info(f"stage_done stage={stage} items={total}")

    try:
        with reporting(step):
            yield
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


@contextmanager
def pass_progress(console: Console) -> Iterator[None]:
    """Show the pass's stages (feeds, pages, extraction) while the block runs."""
    with _bars(console) if console.is_terminal else _log_lines():
        yield
