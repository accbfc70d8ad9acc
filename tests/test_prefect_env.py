"""Which of the task engine's reports a served run drops: typed failures only, never a bug's."""

from __future__ import annotations

import logging
import sys

import pytest

from newsradar.errors import NewsradarError, StoreError, StoreLockedError
from newsradar.prefect_env import quiet_typed_task_failures


def _record(message: str, error: BaseException | None = None) -> logging.LogRecord:
    exc_info = None
    if error is not None:
        try:
            raise error
        except BaseException:
            exc_info = sys.exc_info()
    return logging.LogRecord(
        "prefect.task_runs", logging.ERROR, __file__, 1, message, None, exc_info
    )


LOCKED = StoreLockedError("database x is locked by process 7; raise [storage] lock_timeout")

# (task engine record, whether it still reaches the handlers)
RECORDS = {
    "typed failure, retries exhausted": (
        _record(f"Task run failed with exception: {LOCKED!r} - Retries are exhausted", LOCKED),
        False,
    ),
    "typed failure, no retries": (
        _record("Task run failed with exception: StoreError('disk')", StoreError("disk")),
        False,
    ),
    "typed failure, finished": (
        _record("Finished in state Failed('Task run encountered an exception StoreError: x')"),
        False,
    ),
    "root error, finished": (
        _record("Finished in state Failed('Task run encountered an exception NewsradarError: x')"),
        False,
    ),
    "bug": (
        _record("Task run failed with exception: KeyError('x')", KeyError("x")),
        True,
    ),
    "bug, finished": (
        _record("Finished in state Failed('Task run encountered an exception KeyError: x')"),
        True,
    ),
    "completed": (_record("Finished in state Completed()"), True),
    "other error line": (_record("Task run was aborted: x", NewsradarError("x")), True),
}


@pytest.mark.parametrize(("record", "kept"), RECORDS.values(), ids=RECORDS.keys())
def test_only_typed_task_failures_are_dropped(record: logging.LogRecord, kept: bool) -> None:
    logger = logging.getLogger("prefect.task_runs")
    with quiet_typed_task_failures():
        assert bool(logger.filter(record)) is kept
    assert logger.filter(record)  # nothing is dropped once the flow run is over
