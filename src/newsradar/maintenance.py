"""The daily maintenance stage: fold the WAL into the file and report feed health.

    report = run_maintenance(config)
    markdown = health_markdown(report)

Retention (pruning old article bodies per ``[storage] keep_days``) belongs to the store; this
stage only checkpoints and reads, so it is safe to run at any hour between passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from newsradar.config import Config
from newsradar.monitor import md_escape
from newsradar.store import open_writer
from newsradar.store.health import (
    FeedHealth,
    StoreActivity,
    checkpoint,
    feed_health,
    store_activity,
)

__all__ = ["MaintenanceReport", "health_markdown", "run_maintenance"]


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    at: datetime
    feeds: tuple[FeedHealth, ...]
    activity: StoreActivity

    @property
    def failing(self) -> tuple[FeedHealth, ...]:
        return tuple(f for f in self.feeds if f.consecutive_failures > 0)


def run_maintenance(config: Config, *, now: datetime | None = None) -> MaintenanceReport:
    """Checkpoint the database and read the health of every feed."""
    now = now or datetime.now(UTC)
    with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        checkpoint(con)
        feeds = tuple(feed_health(con))
        activity = store_activity(con)
    return MaintenanceReport(now, feeds, activity)


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "never"


def health_markdown(report: MaintenanceReport) -> str:
    """Feed health for the Prefect UI: failing feeds first, with their last success."""
    lines = [
        f"# Maintenance {report.at:%Y-%m-%d %H:%M} UTC",
        "",
        f"- feeds: {len(report.feeds)}, failing: **{len(report.failing)}**",
        f"- last pass that stored articles: {_when(report.activity.last_stored_at)}",
        "- database checkpointed",
        "",
    ]
    if report.failing:
        lines += [
            "| feed | failures in a row | error | last success |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {md_escape(f.feed_id)} | {f.consecutive_failures} | "
            f"{md_escape(f.error_class or '')}: {md_escape(f.error_message or '', 120)} | "
            f"{_when(f.last_success_at)} |"
            for f in report.failing
        ]
    else:
        lines.append("Every feed answered at its last poll.")
    return "\n".join(lines) + "\n"
