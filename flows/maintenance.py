"""Daily maintenance (``[schedule] maintenance``): checkpoint, feed health, operator check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import State, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.ingest import transient_task
from flows.served import LOCK_WAIT, retried, run_between_passes
from newsradar.config import Config
from newsradar.maintenance import MaintenanceReport, health_markdown, run_maintenance
from newsradar.monitor import check_pass, kv
from newsradar.shutdown import deferred_termination

__all__ = ["maintenance"]


@transient_task("checkpoint-and-health")
def checkpoint_and_health(config: Config) -> MaintenanceReport:
    with deferred_termination():
        return run_maintenance(config)


@flow(name="maintenance", log_prints=False)
def maintenance(
    config_dir: str = "config",
    lock_wait: float = LOCK_WAIT,
    retry_delays: list[float] | None = None,
) -> MaintenanceReport | State[Any]:
    """Checkpoint the database, publish feed health, and tell the operator what is wrong.

    ``lock_wait``: seconds to wait for a pass in progress; then this run is skipped until the
    next one. ``retry_delays``: seconds before each retry of a transient error (a database
    held by another process); by default 2 s, then 10 s.
    """

    def run(config: Config) -> MaintenanceReport:
        report = retried(checkpoint_and_health, retry_delays)(config)
        check_pass(config, None, datetime.now(UTC))
        return report

    skipped = "no checkpoint, retention or feed health this time"
    report = run_between_passes(config_dir, "maintenance", lock_wait, skipped, run)
    if isinstance(report, State):
        return report
    logger = get_run_logger()
    for feed in report.failing:
        logger.warning(
            kv("feed_failing", feed_id=feed.feed_id, failures=feed.consecutive_failures,
               error=feed.error_class or "", detail=(feed.error_message or "")[:300])
        )  # fmt: skip
    create_markdown_artifact(
        health_markdown(report), key="feed-health", description="Feed health and checkpoint"
    )
    return report
