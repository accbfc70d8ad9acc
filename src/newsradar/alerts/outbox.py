"""Planning the outbox: which (recipient, watch, story) alerts a batch of matches creates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsradar.config import Config
from newsradar.identity import stable_id
from newsradar.models import Article

__all__ = ["AlertRow", "MatchedArticle", "plan_alerts"]


@dataclass(frozen=True, slots=True)
class MatchedArticle:
    article: Article
    # Watches that fired on the article.
    watch_ids: tuple[str, ...]
    # True when the article was stored before and its changed text newly fired these watches.
    is_update: bool = False


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: str
    recipient: str
    watch_id: str
    story_id: str
    article_id: str
    kind: str
    created_at: datetime


def plan_alerts(config: Config, matched: Sequence[MatchedArticle], now: datetime) -> list[AlertRow]:
    """One row per (recipient, watch, story, kind); the store's unique key drops repeats."""
    recipients = {w.id: w.recipients or config.alerts.recipients for w in config.watches}
    rows: list[AlertRow] = []
    for item in matched:
        kind = "update" if item.is_update else "match"
        for watch_id in item.watch_ids:
            for recipient in recipients.get(watch_id, ()):
                key = (recipient, watch_id, item.article.story_id, kind)
                rows.append(
                    AlertRow(
                        stable_id("alert", *key),
                        recipient,
                        watch_id,
                        item.article.story_id,
                        item.article.id,
                        kind,
                        now,
                    )  # fmt: skip
                )
    return rows
