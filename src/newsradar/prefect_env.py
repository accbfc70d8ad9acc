"""Prefect defaults for newsradar: local, quiet, and never phoning home.

Must run before ``prefect`` is imported; explicit environment settings win.
"""

from __future__ import annotations

import logging
import os

__all__ = ["configure_prefect", "quiet_engine_errors", "quiet_failed_run_report"]

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
