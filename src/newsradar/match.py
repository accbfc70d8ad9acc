"""Watchlist matching: whole words, case-insensitive (first version)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from newsradar.config import WatchConfig
from newsradar.models import Mention

__all__ = ["Document", "Matcher", "snippet"]


@dataclass(frozen=True, slots=True)
class Document:
    """The fields of one article that watches are matched against."""

    title: str
    body: str
    url: str = ""
    source: str = ""
    lang: str | None = None


def snippet(text: str, start: int, end: int, width: int = 160) -> str:
    """Context around ``text[start:end]``, cut at word boundaries, marked with … at cuts."""
    pad = max(0, (width - (end - start)) // 2)
    lo, hi = max(0, start - pad), min(len(text), end + pad)
    while lo > 0 and not text[lo - 1].isspace():
        lo += 1
        if lo >= start:
            lo = start
            break
    while hi < len(text) and not text[hi].isspace():
        hi -= 1
        if hi <= end:
            hi = end
            break
    core = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + core + ("…" if hi < len(text) else "")


class Matcher:
    """All watches compiled once; ``match`` returns the mentions of the watches that fire."""

    def __init__(self, watches: Sequence[WatchConfig]) -> None:
        self._watches = {w.id: w for w in watches}
        self._patterns = {
            w.id: re.compile(
                r"(?<![\w])(" + "|".join(re.escape(t) for t in w.terms) + r")(?![\w])",
                re.IGNORECASE,
            )
            for w in watches
            if w.terms
        }

    @classmethod
    def compile(cls, watches: Sequence[WatchConfig], *, source: str = "watchlist.toml") -> Matcher:
        return cls(watches)

    @property
    def watch_ids(self) -> tuple[str, ...]:
        return tuple(self._watches)

    def definition(self, watch_id: str) -> str:
        return json.dumps(self._watches[watch_id].model_dump(mode="json"), sort_keys=True)

    def rule_hash(self, watch_id: str) -> str:
        return hashlib.sha256(self.definition(watch_id).encode()).hexdigest()[:16]

    def match(self, doc: Document) -> dict[str, list[Mention]]:
        found: dict[str, list[Mention]] = {}
        for watch_id, pattern in self._patterns.items():
            mentions = [
                Mention(watch_id, field, m.start(), m.end(), m.group(0))
                for field, text in (("title", doc.title), ("body", doc.body))
                for m in pattern.finditer(text)
            ]
            if len(mentions) >= self._watches[watch_id].min_mentions:
                found[watch_id] = mentions
        return found
