"""The progress of an interactive pass: Rich bars per stage on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from newsradar.monitor import kv
from newsradar.progress import reporting

__all__ = ["pass_progress"]

log = logging.getLogger("newsradar.progress")


@contextmanager
def _bars(console: Console) -> Iterator[None]:
    columns = (TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn())
    lock = threading.Lock()
    with Progress(*columns, console=console, transient=True) as bars:
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
            log.info(kv("stage_done", stage=stage, items=total))

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
