"""Daily maintenance (``[schedule] maintenance``): checkpoint, feed health, operator check."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import State, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.alerts import LOCK_WAIT, served_pass_lock
from flows.ingest import failed_when_served, skipped_when_served, transient_task
from flows.served import failed_in_one_line, retried, typed_failures
from newsradar.config import Config, load_config
from newsradar.errors import ConfigError, NewsradarError, RunLockedError
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
    skipped = "no checkpoint, retention or feed health this time"
    try:
        config = load_config(Path(config_dir))
    except ConfigError as exc:
        return failed_when_served(exc, Path(config_dir), skipped=skipped)
    with ExitStack() as held, typed_failures():
        try:
            held.enter_context(served_pass_lock(config, lock_wait, "maintenance"))
        except RunLockedError as exc:
            return skipped_when_served(exc, "maintenance_skipped")
        try:
            report = retried(checkpoint_and_health, retry_delays)(config)
            check_pass(config, None, datetime.now(UTC))
        except NewsradarError as exc:
            return failed_in_one_line(exc, skipped)
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
