"""Prefect defaults for newsradar: local, quiet, and never phoning home.

Must run before ``prefect`` is imported; explicit environment settings win.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from newsradar.errors import NewsradarError

__all__ = [
    "configure_prefect",
    "quiet_engine_errors",
    "quiet_failed_run_report",
    "quiet_typed_task_failures",
]

_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_UI_ENABLED": "false",
}


def configure_prefect(*, verbose: bool = False) -> None:
    for key, value in _DEFAULTS.items():
        if key == "PREFECT_LOGGING_LEVEL" and verbose:
            value = "INFO"
        os.environ.setdefault(key, value)


class _EngineErrors(logging.Filter):
    """Drops the engine's ERROR reports of a failed task or flow run (with tracebacks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        engine = record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))
        return not (engine and record.levelno >= logging.ERROR)


def quiet_engine_errors() -> None:
    """Keep Prefect's failed-run reports off the terminal; call after importing Prefect.

    The error that ends a pass reaches the CLI, which prints it once, in one line (the
    traceback is one --verbose or NEWSRADAR_DEBUG=1 away). Warnings, and the reports sent to
    the Prefect server, are untouched.
    """
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.addFilter(_EngineErrors())


class _FailedRunReport(logging.Filter):
    """Drops the engine's report of a flow run that ended ``Failed`` with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or str(error) != self.message


def quiet_failed_run_report(message: str) -> None:
    """For a flow about to return ``Failed(message=message)`` after logging why in one line.

    Prefect's engine turns any Failed flow run into an exception and logs it with a traceback
    ("Engine execution exited with unexpected exception"), even when the flow chose the state
    and said why; this drops that one report, and no other, from every handler (the journal
    and the Prefect server alike). The state and its message stay as they are.
    """
    logging.getLogger("prefect.flow_runs").addFilter(_FailedRunReport(message))


# How the task engine's "Finished in state Failed(...)" names the exception that failed it.
_FAILED_ON = re.compile(r"Task run encountered an exception (\w+): ")


def _typed_names() -> set[str]:
    names, todo = set(), [NewsradarError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


class _TypedTaskFailures(logging.Filter):
    """Drops the task engine's ERROR reports of a task run that failed on a NewsradarError:
    "Task run failed with exception: ..." with its traceback (logged when no retry is left),
    and "Finished in state Failed(...)" (logged for every failed task run, without the
    exception itself: its name in the state's message tells). Any other exception keeps both."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        message = str(record.msg)
        if message.startswith("Task run failed with"):
            return not isinstance(error, NewsradarError)
        if message.startswith("Finished in state Failed"):
            named = _FAILED_ON.search(message)
            return not (named and named.group(1) in _typed_names())
        return True


@contextmanager
def quiet_typed_task_failures() -> Iterator[None]:
    """While a flow run that ends a NewsradarError in one line itself runs its tasks.

    Prefect's task engine logs every failed task run with a traceback, on every handler (the
    journal and the Prefect server alike), although a held database or a full disk is an
    expected error whose message already names the thing, the place and the fix; the flow
    logs that message once. Bugs (any other exception) keep their traceback.
    """
    quiet = _TypedTaskFailures()
    logger = logging.getLogger("prefect.task_runs")
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)
