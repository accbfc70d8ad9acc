"""The daily maintenance stage: retention, a checkpoint, and feed health.

    report = run_maintenance(config)
    markdown = health_markdown(report)

Retention clears article bodies older than ``[storage] keep_days`` (titles, matches and counts
stay; see ``newsradar.store.retention``); the checkpoint folds the WAL into the file, so a copy
of the file right after is a complete backup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from newsradar.config import Config
from newsradar.errors import NewsradarError, StoreLockedError
from newsradar.health import FeedRow, diagnose, status, worst_first
from newsradar.monitor import md_escape
from newsradar.store import open_writer
from newsradar.store.activity import (
    StoreActivity,
    checkpoint,
    close_interrupted_runs,
    record_failed_run,
    store_activity,
)
from newsradar.store.feeds import load_feed_rows
from newsradar.store.retention import prune

__all__ = [
    "MaintenanceReport",
    "close_interrupted",
    "health_markdown",
    "record_failure",
    "run_maintenance",
]


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    at: datetime
    # Every known feed, worst first.
    feeds: tuple[FeedRow, ...]
    # Article bodies cleared by retention.
    pruned: int
    activity: StoreActivity

    @property
    def failing(self) -> tuple[FeedRow, ...]:
        return tuple(f for f in self.feeds if status(f, self.at) == "failing")


def run_maintenance(config: Config, *, now: datetime | None = None) -> MaintenanceReport:
    """Prune old bodies, checkpoint the database and read the health of every feed."""
    now = now or datetime.now(UTC)
    with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        pruned = prune(con, config.storage.keep_days, now)
        checkpoint(con)
        feeds = tuple(worst_first(load_feed_rows(con), now))
        activity = store_activity(con)
    return MaintenanceReport(now, feeds, pruned, activity)


def close_interrupted(
    config: Config, *, current: str | None = None, now: datetime | None = None
) -> int:
    """Before a pass, under the run lock: record earlier passes that never finished.

    ``current``: the pass's own run id, whose row a retried start may already find.
    """
    if not config.storage.database.exists():
        return 0
    with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        return close_interrupted_runs(con, now or datetime.now(UTC), current=current)


def record_failure(
    config: Config, run_id: str, error: BaseException, *, now: datetime | None = None
) -> bool:
    """After a pass stopped on ``error``: record it in ``runs`` as ``locked`` (the database was
    held) or ``failed``, with the error as the message. Best effort: when the database cannot be
    written either, the next pass records the run as ``interrupted``. Returns whether it did."""
    status = "locked" if isinstance(error, StoreLockedError) else "failed"
    message = " ".join(str(error).split())[:1000] or type(error).__name__
    try:
        # Briefly: the pass is over, and a held database would only be waited for again.
        with open_writer(
            config.storage.database, lock_timeout=min(config.storage.lock_timeout, 5)
        ) as con:
            return record_failed_run(con, run_id, status, message, now or datetime.now(UTC))
    except (NewsradarError, duckdb.Error):
        return False


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "never"


def health_markdown(report: MaintenanceReport) -> str:
    """Feed health for the Prefect UI: feeds that need a look first, with a diagnosis."""
    attention = [f for f in report.feeds if status(f, report.at) != "ok"]
    lines = [
        f"# Maintenance {report.at:%Y-%m-%d %H:%M} UTC",
        "",
        f"- feeds: {len(report.feeds)}, failing: **{len(report.failing)}**",
        f"- last pass that stored articles: {_when(report.activity.last_stored_at)}",
        f"- article bodies past retention cleared: {report.pruned}; database checkpointed",
        "",
    ]
    if attention:
        lines += [
            "| feed | status | failures in a row | last success | diagnosis |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {md_escape(f.feed_id)} | {status(f, report.at)} | {f.consecutive_failures} | "
            f"{_when(f.last_success_at)} | {md_escape(diagnose(f, report.at), 160)} |"
            for f in attention
        ]
    else:
        lines.append("Every feed answered at its last poll.")
    return "\n".join(lines) + "\n"
