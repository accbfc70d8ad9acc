"""Mentions become stored match rows: one place for the watch's rule hash and the snippet."""

from __future__ import annotations

from newsradar.match import Document, Matcher
from newsradar.snippet import snippet
from newsradar.store.writer import MatchRow

__all__ = ["match_rows"]


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
