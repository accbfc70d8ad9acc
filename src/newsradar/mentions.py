"""Watches and mentions become stored rows: one place for the watch's rule hash and the snippet."""

from __future__ import annotations

from collections.abc import Iterable

from newsradar.config import WatchConfig
from newsradar.match import Document, Matcher
from newsradar.snippet import snippet
from newsradar.store.writer import MatchRow, WatchRow

__all__ = ["match_rows", "watch_rows"]


def watch_rows(matcher: Matcher, watches: Iterable[WatchConfig]) -> list[WatchRow]:
    """The ``watches`` rows recording each watch's definition as ``matcher`` compiled it."""
    return [
        WatchRow(w.id, w.display_name, matcher.rule_hash(w.id), matcher.definition(w.id))
        for w in watches
    ]


def match_rows(
    matcher: Matcher, doc: Document, article_id: str, snippet_chars: int
) -> dict[str, list[MatchRow]]:
    """The rows of every watch that fires on ``doc``, keyed by watch id."""
    found: dict[str, list[MatchRow]] = {}
    for watch_id, mentions in matcher.match(doc).items():
        rule_hash = matcher.rule_hash(watch_id)
        found[watch_id] = [
            MatchRow(
                article_id,
                m,
                rule_hash,
                snippet(
                    doc.title if m.field == "title" else doc.body, m.start, m.end, snippet_chars
                ),
            )
            for m in mentions
        ]
    return found
