"""Backtesting a watchlist on stored articles: what each watch gains and loses.

Pure: the caller reads articles and stored matches (``newsradar.store.rematch``) and writes the
result back; this module only matches and compares.

    >>> result = backtest(matcher, articles, stored, snippet_chars=160)
    >>> [(d.watch_id, len(d.gained), len(d.lost)) for d in result.diffs if d.changed]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from newsradar.match import Document, Matcher
from newsradar.mentions import match_rows
from newsradar.store.rematch import StoredArticle
from newsradar.store.writer import MatchRow

__all__ = ["Backtest", "WatchDiff", "backtest"]


@dataclass(frozen=True, slots=True)
class WatchDiff:
    watch_id: str
    rule_hash: str
    # "new" (no stored match yet and never stored), "edited" (stored under another rule hash),
    # "same", or "removed" (stored, no longer in the watchlist: left untouched).
    rule: str
    before: frozenset[str]
    after: frozenset[str]

    @property
    def gained(self) -> frozenset[str]:
        return self.after - self.before

    @property
    def lost(self) -> frozenset[str]:
        return self.before - self.after

    @property
    def changed(self) -> bool:
        """Stored matches must be replaced: other articles, or the same under an old rule."""
        return self.rule != "removed" and (self.before != self.after or self.rule == "edited")


@dataclass(frozen=True, slots=True)
class Backtest:
    diffs: tuple[WatchDiff, ...]
    # New match rows of the changed watches.
    rows: tuple[MatchRow, ...]
    article_ids: tuple[str, ...]

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(d.watch_id for d in self.diffs if d.changed)


def backtest(
    matcher: Matcher,
    articles: Sequence[StoredArticle],
    stored: Mapping[str, Mapping[str, str]],
    *,
    snippet_chars: int = 160,
) -> Backtest:
    """Match ``articles`` and compare with ``stored`` (watch -> article -> rule hash)."""
    rows: dict[str, list[MatchRow]] = {w: [] for w in matcher.watch_ids}
    after: dict[str, set[str]] = {w: set() for w in matcher.watch_ids}
    for article in articles:
        doc = Document(article.title, article.text, article.url, article.feed_id, article.language)
        for watch_id, found in match_rows(matcher, doc, article.id, snippet_chars).items():
            after[watch_id].add(article.id)
            rows[watch_id].extend(found)
    diffs: list[WatchDiff] = []
    for watch_id in matcher.watch_ids:
        rule_hash = matcher.rule_hash(watch_id)
        old = stored.get(watch_id, {})
        rule = "new" if not old else "same"
        if any(h != rule_hash for h in old.values()):
            rule = "edited"
        diffs.append(
            WatchDiff(watch_id, rule_hash, rule, frozenset(old), frozenset(after[watch_id]))
        )
    for watch_id in sorted(set(stored) - set(matcher.watch_ids)):
        old_ids = frozenset(stored[watch_id])
        diffs.append(WatchDiff(watch_id, "", "removed", old_ids, old_ids))
    changed = {d.watch_id for d in diffs if d.changed}
    return Backtest(
        tuple(diffs),
        tuple(row for w in matcher.watch_ids if w in changed for row in rows[w]),
        tuple(a.id for a in articles),
    )
