"""The daily maintenance stage: retention, a checkpoint, and feed health.

    report = run_maintenance(config)
    markdown = health_markdown(report)

Retention clears article bodies older than ``[storage] keep_days`` (titles, matches and counts
stay; see ``newsradar.store.retention``); the checkpoint folds the WAL into the file, so a copy
of the file right after is a complete backup.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import duckdb

from newsradar.config import Config
from newsradar.errors import NewsradarError, StoreLockedError, one_line
from newsradar.health import FeedRow, diagnose, status, worst_first
from newsradar.monitor import md_escape
from newsradar.store import open_writer, transaction
from newsradar.store.activity import (
    StoreActivity,
    checkpoint,
    close_interrupted_runs,
    record_failed_run,
    store_activity,
)
from newsradar.store.feeds import load_feed_rows
from newsradar.store.retention import prune
from newsradar.unrecorded import UnrecordedFailure, drop_failures, load_failures, save_failure

__all__ = [
    "MaintenanceReport",
    "Recorded",
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
    database = config.storage.database
    if not database.exists():
        return 0
    noted = load_failures(database)
    with open_writer(database, lock_timeout=config.storage.lock_timeout) as con:
        with transaction(con):
            # Passes whose failure the database refused at the time: their real reason first.
            for failure in noted:
                record_failed_run(con, failure.run_id, failure.status, failure.message, failure.at)
            closed = close_interrupted_runs(con, now or datetime.now(UTC), current=current)
    # Only once committed. A note left behind is harmless: its rows are no longer running.
    with contextlib.suppress(OSError):
        drop_failures(database)
    return closed


# What became of a failure: in ``runs`` now; in the note beside the database, for the next
# pass to record; or neither (its row had already ended, there is no database, or the note
# could not be written).
Recorded = Literal["recorded", "noted", "unrecorded"]


def record_failure(
    config: Config, run_id: str, error: BaseException, *, now: datetime | None = None
) -> Recorded:
    """After a pass stopped on ``error``: record it in ``runs`` as ``locked`` (the database was
    held) or ``failed``, with the error as the message. A pass that stopped before it wrote
    its row (the database was held from the start) gets one, begun and ended now.

    When the database cannot be written (another process holds it, the disk refuses), the
    same is kept in a note beside it and the next pass's `close_interrupted` records it; only
    when the note cannot be written either does that pass mark the run ``interrupted`` (or,
    if it never wrote its row, does ``runs`` not show it at all).
    """
    database = config.storage.database
    if not database.exists():
        # The pass could not even make it; a row is not worth a new, empty database.
        return "unrecorded"
    failure = UnrecordedFailure(
        run_id,
        "locked" if isinstance(error, StoreLockedError) else "failed",
        one_line(error)[:1000],
        now or datetime.now(UTC),
    )
    try:
        # Briefly: the pass is over, and a held database would only be waited for again.
        with open_writer(database, lock_timeout=min(config.storage.lock_timeout, 5)) as con:
            marked = record_failed_run(con, run_id, failure.status, failure.message, failure.at)
            return "recorded" if marked else "unrecorded"
    except (NewsradarError, duckdb.Error):
        pass
    try:
        save_failure(database, failure)
    except OSError:
        return "unrecorded"
    return "noted"


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
