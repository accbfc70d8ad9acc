"""Feed parsing: bytes and headers in, entries with a stable identity out (feedparser)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.html

from newsradar.errors import ParseError
from newsradar.identity import canonical_url, stable_id
from newsradar.models import FeedEntry, ParsedFeed

__all__ = ["parse_feed"]


def _plain(html: str) -> str:
    if not html or "<" not in html:
        return html.strip()
    try:
        return " ".join(lxml.html.fromstring(html).text_content().split())
    except Exception:
        return html.strip()


def _date(entry: Any, key: str) -> datetime | None:
    value = dict.get(entry, key)  # plain lookup: no feedparser fallback mapping
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def parse_feed(
    feed_id: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    base_url: str,
    max_entries: int,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse one feed document (never a URL: feedparser would fetch it)."""
    parsed = feedparser.parse(body, response_headers=dict(headers))
    if not parsed.entries and parsed.bozo:
        raise ParseError(f"feed '{feed_id}' ({base_url}): {parsed.bozo_exception}")
    entries: list[FeedEntry] = []
    for item in parsed.entries[:max_entries]:
        link = item.get("link", "") or ""
        title = _plain(item.get("title", "") or "")
        guid = item.get("id") or ""
        flags: tuple[str, ...] = ()
        if not guid:
            guid = "synthetic:" + stable_id(link, title)
            flags = ("guid_synthesized",)
        entries.append(
            FeedEntry(
                feed_id=feed_id,
                guid=guid,
                url=link,
                canonical_url=canonical_url(link),
                title=title,
                summary=_plain(item.get("summary", "") or ""),
                author=item.get("author") or None,
                published_at=_date(item, "published_parsed"),
                updated_at=_date(item, "updated_parsed"),
                flags=flags,
            )
        )
    warnings = (str(parsed.bozo_exception),) if parsed.bozo else ()
    return ParsedFeed(title=parsed.feed.get("title"), entries=tuple(entries), warnings=warnings)
