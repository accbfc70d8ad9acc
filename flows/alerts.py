"""Deliver due digests on the digest schedule (``[schedule] alerts``), between passes.

A pass delivers what is due when it ends; this flow catches digests that come due at a fixed
hour ("daily at 07:00") while no pass is running. It takes the same run lock as a pass and
waits for one in progress rather than writing beside it.
"""

from __future__ import annotations

from typing import Any

from prefect import State, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.ingest import transient_task
from flows.served import LOCK_WAIT, retried, run_between_passes
from newsradar import pipeline
from newsradar.config import Config
from newsradar.monitor import kv, md_escape
from newsradar.shutdown import deferred_termination

__all__ = ["alerts"]


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
    report = run_between_passes(
        config_dir, "alerts", lock_wait, "no digest was sent", retried(deliver, retry_delays)
    )
    if isinstance(report, State):
        return report
    get_run_logger().info(kv("alerts_delivered", sent=report.sent, failed=report.failed))
    mails = "\n".join(f"- {md_escape(m)}" for m in report.mails) or "None."
    create_markdown_artifact(
        f"# Digests\n\n- alerts sent: **{report.sent}**, failed: {report.failed}\n\n"
        f"## Mails\n\n{mails}\n",
        key="alerts-delivery",
        description="Digests delivered by this run",
    )
    return report
