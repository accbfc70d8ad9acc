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

A run that finds the run lock held ends ``Skipped`` (:func:`skipped_when_served`), one that
finds the configuration invalid ``Failed`` (:func:`failed_when_served`); the runs between passes
(alerts, maintenance) get all three endings from :func:`run_between_passes`.

Outside a deployment (`newsradar run`, a flow called directly) nothing changes: the error is
raised and the CLI prints it in one line. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import State, Task, get_run_logger
from prefect.runtime import deployment
from prefect.states import Completed, Failed

from newsradar.config import Config, load_config
from newsradar.errors import ConfigError, NewsradarError, RunLockedError, one_line
from newsradar.misconfig import error_line, record_refusal, served_database
from newsradar.monitor import kv
from newsradar.prefect_env import quiet_failed_run_report, quiet_typed_task_failures
from newsradar.runlock import pass_lock

__all__ = [
    "LOCK_WAIT",
    "fail_with_line",
    "failed_in_one_line",
    "failed_when_served",
    "retried",
    "run_between_passes",
    "served_pass_lock",
    "skipped_when_served",
    "typed_failures",
]

# Seconds a run between passes (alerts, maintenance) waits for a pass that holds the run lock.
LOCK_WAIT = 600.0

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
    line = one_line(exc)
    return fail_with_line(f"{line}; {consequence}" if consequence else line)


def retried(task: Task[P, R], delays: Sequence[float] | None) -> Task[P, R]:
    """``task`` retrying after ``delays`` (seconds) instead of its own; None keeps its own.

    A flow parameter: an operator may want other delays, and tests want none.
    """
    if delays is None:
        return task
    return task.with_options(retries=len(delays), retry_delay_seconds=list(delays))


def skipped_when_served(exc: RunLockedError, event: str = "pass_skipped") -> State[Any]:
    """A served run that found the run lock held ends as ``Skipped``, with one warning line.

    Another writer holding it is expected (a `newsradar run` from cron, a backup under
    ``flock``, a long pass for the alerts and maintenance runs), and raising logged two
    tracebacks into the journal for it. Outside a deployment (`newsradar run`, a flow called
    directly) it is raised: exit 1 with one line. ``event`` names the warning line.
    """
    if deployment.id is None:
        raise exc
    message = one_line(exc)
    get_run_logger().warning(kv(event, reason="run_locked", detail=message))
    return Completed(name="Skipped", message=message)


def failed_when_served(exc: ConfigError, config_dir: Path, *, skipped: str = "") -> State[Any]:
    """A served run that finds the configuration invalid ends ``Failed``, with one error line.

    `newsradar serve` reads the configuration afresh for every pass, so a broken edit made
    while it runs shows up here, pass after pass, until it is fixed. Raising logged a long
    traceback and left no row in ``runs``; this logs the line `newsradar run` prints, records
    the pass in ``runs`` as ``failed`` where the database is known, and the server keeps
    serving. ``Failed``, not ``Skipped``: nothing will run until someone fixes the file, so
    the UI and Prefect's automations must see it as a failure. Outside a deployment
    (`newsradar run`) it is raised: exit 2 with the same line.

    The other served flows (alerts, maintenance) say what they ``skipped`` instead: ``runs``
    holds monitoring passes only.
    """
    if deployment.id is None:
        raise exc
    if skipped:
        line = f"{error_line(exc)}; {skipped}"
    else:
        line = record_refusal(config_dir, exc, served=served_database()).line
    return fail_with_line(line)


def served_pass_lock(
    config: Config, lock_wait: float, deployment_name: str
) -> AbstractContextManager[None]:
    """The run lock for a served run, waiting ``lock_wait`` s; the message names that knob."""
    setting = f"the lock_wait parameter of the {deployment_name} deployment"
    task = f"this {deployment_name} run"
    return pass_lock(config.storage.database, wait=lock_wait, task=task, setting=setting)


def run_between_passes(
    config_dir: str,
    name: str,
    lock_wait: float,
    skipped: str,
    body: Callable[[Config], R],
) -> R | State[Any]:
    """``body(config)`` for a run between passes (alerts, maintenance), under the run lock.

    A broken configuration or an expected error ends a served run ``Failed`` in one line
    saying what was ``skipped``; a pass holding the lock past ``lock_wait`` ends it
    ``Skipped`` (event ``<name>_skipped``). Outside a deployment each is raised.
    """
    try:
        config = load_config(Path(config_dir))
    except ConfigError as exc:
        return failed_when_served(exc, Path(config_dir), skipped=skipped)
    with ExitStack() as held, typed_failures():
        try:
            held.enter_context(served_pass_lock(config, lock_wait, name))
        except RunLockedError as exc:
            return skipped_when_served(exc, f"{name}_skipped")
        try:
            return body(config)
        except NewsradarError as exc:
            return failed_in_one_line(exc, skipped)
