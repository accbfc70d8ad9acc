"""Planning the outbox: which (recipient, watch, story, kind) alerts a batch of matches creates.

Pure: the pipeline stores the rows in the same transaction as the matches that cause them
(:func:`newsradar.store.alerts.queue_alerts`), so an alert exists if and only if its match does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from newsradar.alerts.schedule import delivery_for, next_due, parse_timezone
from newsradar.config import Config, WatchConfig
from newsradar.identity import stable_id
from newsradar.models import Article
from newsradar.store.alerts import AlertRow

__all__ = ["AlertRow", "MatchedArticle", "alert_id", "due_function", "plan_alerts"]


@dataclass(frozen=True, slots=True)
class MatchedArticle:
    """An article stored in this batch, and the watches that fired on it."""

    article: Article
    watch_ids: tuple[str, ...]
    # True when the article was stored before and its changed text newly fired these watches.
    is_update: bool = False


def alert_id(recipient: str, watch_id: str, story_id: str, kind: str) -> str:
    """The row id: the same key always gives the same id, so replays collide."""
    return stable_id("alert", recipient, watch_id, story_id, kind)


def due_function(config: Config, now: datetime) -> Callable[[str, WatchConfig], datetime]:
    """``due(recipient, watch)``: the recipient's next digest slot for that watch's alerts."""
    alerts = config.alerts
    tz = parse_timezone(alerts.timezone)

    def due(recipient: str, watch: WatchConfig) -> datetime:
        mode = delivery_for(
            recipient, watch.delivery, alerts.delivery_by_recipient, alerts.delivery
        )
        return next_due(mode, now, tz)

    return due


def plan_alerts(config: Config, matched: Sequence[MatchedArticle], now: datetime) -> list[AlertRow]:
    """One row per (recipient, watch, story, kind); the first article of a story leads.

    Watches without recipients use ``[alerts] recipients``; a watch no longer in the
    configuration is skipped. ``due_at`` is the recipient's next digest slot.
    """
    alerts = config.alerts
    due = due_function(config, now)
    watches = {w.id: w for w in config.watches}
    rows: dict[tuple[str, str, str, str], AlertRow] = {}
    for item in matched:
        story_id = item.article.story_id or item.article.id
        kind = "update" if item.is_update else "match"
        for watch_id in dict.fromkeys(item.watch_ids):
            watch = watches.get(watch_id)
            if watch is None:
                continue
            for recipient in watch.recipients or alerts.recipients:
                key = (recipient, watch_id, story_id, kind)
                if key in rows:
                    continue
                rows[key] = AlertRow(
                    id=alert_id(*key),
                    recipient=recipient,
                    watch_id=watch_id,
                    story_id=story_id,
                    article_id=item.article.id,
                    kind=kind,
                    created_at=now,
                    due_at=due(recipient, watch),
                )
    return list(rows.values())
