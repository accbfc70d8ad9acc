"""Deliver due digests on the digest schedule (``[schedule] alerts``), between passes.

A pass delivers what is due when it ends; this flow catches digests that come due at a fixed
hour ("daily at 07:00") while no pass is running. It takes the same run lock as a pass and
waits for one in progress rather than writing beside it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from prefect import State, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.ingest import failed_when_served, skipped_when_served, transient_task
from flows.served import failed_in_one_line, retried, typed_failures
from newsradar import pipeline
from newsradar.config import Config, load_config
from newsradar.errors import ConfigError, NewsradarError, RunLockedError
from newsradar.monitor import kv, md_escape
from newsradar.runlock import pass_lock
from newsradar.shutdown import deferred_termination

__all__ = ["LOCK_WAIT", "alerts", "served_pass_lock"]

# Seconds to wait for a pass that holds the run lock.
LOCK_WAIT = 600.0


def served_pass_lock(
    config: Config, lock_wait: float, deployment_name: str
) -> AbstractContextManager[None]:
    """The run lock for a served run, waiting ``lock_wait`` s; the message names that knob."""
    setting = f"the lock_wait parameter of the {deployment_name} deployment"
    task = f"this {deployment_name} run"
    return pass_lock(config.storage.database, wait=lock_wait, task=task, setting=setting)


@transient_task("deliver-digests")
def deliver(config: Config) -> pipeline.DeliveryReport:
    with deferred_termination():  # never a mail sent but not marked sent
        return pipeline.deliver_alerts(config)


@flow(name="alerts", log_prints=False)
def alerts(
    config_dir: str = "config",
    lock_wait: float = LOCK_WAIT,
    retry_delays: list[float] | None = None,
) -> pipeline.DeliveryReport | State[Any]:
    """Send (or write as .eml) every digest that is due.

    ``lock_wait``: seconds to wait for a pass in progress; then this run is skipped (the pass
    delivers what is due when it ends). ``retry_delays``: seconds before each retry of a
    transient error (a database held by another process); by default 2 s, then 10 s.
    """
    skipped = "no digest was sent"
    try:
        config = load_config(Path(config_dir))
    except ConfigError as exc:
        return failed_when_served(exc, Path(config_dir), skipped=skipped)
    with ExitStack() as held, typed_failures():
        try:
            held.enter_context(served_pass_lock(config, lock_wait, "alerts"))
        except RunLockedError as exc:
            return skipped_when_served(exc, "alerts_skipped")
        try:
            report = retried(deliver, retry_delays)(config)
        except NewsradarError as exc:
            return failed_in_one_line(exc, skipped)
    get_run_logger().info(kv("alerts_delivered", sent=report.sent, failed=report.failed))
    mails = "\n".join(f"- {md_escape(m)}" for m in report.mails) or "None."
    create_markdown_artifact(
        f"# Digests\n\n- alerts sent: **{report.sent}**, failed: {report.failed}\n\n"
        f"## Mails\n\n{mails}\n",
        key="alerts-delivery",
        description="Digests delivered by this run",
    )
    return report
