"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1) read into feedparser's shapes.

feedparser 6.0 reads only XML, so a JSON Feed would fail as "not well-formed". This turns one
into the same dictionaries feedparser returns (``feed``, ``entries``, ``*_parsed`` dates), so
the rest of the feed stage handles both alike. Pure: bytes in, dictionaries out.
"""

from __future__ import annotations

import json
from typing import Any

from feedparser import FeedParserDict
from feedparser.datetimes import _parse_date

__all__ = ["JsonFeedError", "is_json_feed", "parse_json_feed"]


class JsonFeedError(ValueError):
    """A body that starts like JSON but is not a JSON Feed."""


def is_json_feed(body: bytes) -> bool:
    """True when the body is a JSON object (JSON Feed is the only JSON feed format)."""
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _author(item: dict[str, Any]) -> str:
    # Version 1.1 has a list of authors, version 1 one author.
    people = item.get("authors")
    if not isinstance(people, list):
        people = [item.get("author")]
    names = [_text(p.get("name")) for p in people if isinstance(p, dict)]
    return ", ".join(n for n in names if n)


def _entry(item: dict[str, Any]) -> FeedParserDict:
    html = _text(item.get("content_html"))
    entry = FeedParserDict(
        id=_text(item.get("id")),
        title=_text(item.get("title")),
        title_detail=FeedParserDict(type="text/plain"),
        link=_text(item.get("url")) or _text(item.get("external_url")),
        # The summary is plain text; content_html is markup and content_text is plain.
        summary=_text(item.get("summary")) or html or _text(item.get("content_text")),
        author=_author(item),
    )
    for key, name in (("published", "date_published"), ("updated", "date_modified")):
        parsed = _parse_date(_text(item.get(name))) if item.get(name) else None
        if parsed is not None:
            entry[f"{key}_parsed"] = parsed
    return entry


def parse_json_feed(body: bytes) -> FeedParserDict:
    """The feed as feedparser would give it; :class:`JsonFeedError` when it is not one."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonFeedError(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise JsonFeedError("no 'items' list")
    items = [i for i in doc["items"] if isinstance(i, dict)]
    return FeedParserDict(
        version="json" + _text(doc.get("version")).rsplit("/", 1)[-1].replace(".", ""),
        feed=FeedParserDict(title=_text(doc.get("title"))),
        entries=[_entry(i) for i in items],
        bozo=len(items) != len(doc["items"]),
    )
