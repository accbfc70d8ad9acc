"""How a served run ends on an error newsradar expects: one error line, not a traceback.

`newsradar serve` runs every flow for months; a database held by an analyst's session past
``[storage] lock_timeout``, a full disk or a damaged file are expected there, and their message
already names the thing, the place and the fix. Each flow runs its tasks under
:func:`typed_failures` and ends such a run with :func:`failed_in_one_line`:

    with typed_failures():
        try:
            report = deliver(config)
        except NewsradarError as exc:
            return failed_in_one_line(exc, "no digest was sent")

Outside a deployment (`newsradar run`, a flow called directly) nothing changes: the error is
raised and the CLI prints it in one line. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from prefect import State, Task, get_run_logger
from prefect.runtime import deployment
from prefect.states import Failed

from newsradar.errors import NewsradarError
from newsradar.prefect_env import quiet_failed_run_report, quiet_typed_task_failures

__all__ = ["failed_in_one_line", "fail_with_line", "retried", "typed_failures"]

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def typed_failures() -> Iterator[None]:
    """In a served run: the tasks inside fail on a NewsradarError without a traceback."""
    if deployment.id is None:
        yield
        return
    with quiet_typed_task_failures():
        yield


def fail_with_line(line: str) -> State[Any]:
    """Log ``line`` as the one error of this run, and end it ``Failed`` with it."""
    get_run_logger().error(line)
    quiet_failed_run_report(line)  # the line above says it all
    return Failed(message=line)


def failed_in_one_line(exc: NewsradarError, consequence: str = "") -> State[Any]:
    """A served run stopped by ``exc`` ends ``Failed``: its message, then what it means.

    ``Failed``, not ``Skipped``: a held database or a full disk needs someone to act, so the UI
    and Prefect's automations must see a failure. Outside a deployment it is raised.
    """
    if deployment.id is None:
        raise exc
    line = " ".join(str(exc).split()) or type(exc).__name__
    return fail_with_line(f"{line}; {consequence}" if consequence else line)


def retried(task: Task[P, R], delays: Sequence[float] | None) -> Task[P, R]:
    """``task`` retrying after ``delays`` (seconds) instead of its own; None keeps its own.

    A flow parameter: an operator may want other delays, and tests want none.
    """
    if delays is None:
        return task
    return task.with_options(retries=len(delays), retry_delay_seconds=list(delays))
