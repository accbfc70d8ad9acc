"""What a digest says, before it is rendered: stories grouped by watch, newest first.

Pure: takes outbox rows and stored articles/matches, returns a :class:`Digest` that the
templates render. Each story appears once, under the first of its watches in watchlist order,
and lists every watch of this recipient that fired on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import idna

from newsradar.identity import stable_id
from newsradar.store.alerts import MatchRow, PendingAlert, StoryArticle

__all__ = [
    "outlet_of",
    "subject_for",
    "Digest",
    "Link",
    "Section",
    "Segment",
    "Story",
    "build_digest",
    "clean_text",
    "digest_id",
    "safe_url",
    "segments",
]

# Controls, line/paragraph separators, bidi overrides, and lone surrogates (which JSON feeds
# can smuggle in as "\\ud800" and which no encoder accepts).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SPACE = re.compile(r"\s+")
# RFC 3986 reserved and unreserved characters, plus "%" for existing escapes.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of snippet text; ``hit`` marks the matched words."""

    text: str
    hit: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    """An outlet's copy of a story; ``url`` is None unless it is plain http(s)."""

    outlet: str
    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    title: tuple[Segment, ...]
    url: str | None
    outlet: str
    # Local time as shown, e.g. "2026-11-29 08:15 CET".
    when: str
    sort_key: datetime
    watches: tuple[str, ...]
    snippets: tuple[tuple[Segment, ...], ...]
    also_in: tuple[Link, ...]
    # "match" or "update" (an article already alerted whose new text fired a watch).
    kind: str


@dataclass(frozen=True, slots=True)
class Section:
    watch: str
    stories: tuple[Story, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    id: str
    recipient: str
    subject: str
    sections: tuple[Section, ...]
    # The outbox rows this mail carries.
    alert_ids: tuple[str, ...]
    # Delivery attempts made before this one (drives the retry back-off).
    attempts: int = 0
    # One sentence per spike alert ("NATO: 25 stories on Fri 20 Nov, usually 3.7 a day ...").
    spikes: tuple[str, ...] = ()
    # Optional stories-per-day chart, attached inline (multipart/related) under ``chart_cid``.
    chart_png: bytes | None = None
    chart_alt: str = ""
    chart_cid: str = ""

    @property
    def story_count(self) -> int:
        return sum(len(s.stories) for s in self.sections)

    @property
    def is_empty(self) -> bool:
        return not self.spikes and self.story_count == 0


def digest_id(alert_ids: Sequence[str]) -> str:
    """Stable id of a mail from the rows it carries (the Message-ID's left part)."""
    return stable_id("digest", *sorted(alert_ids))


def clean_text(text: str) -> str:
    """One line of display text: no control or bidi-override characters, spaces collapsed."""
    text = unicodedata.normalize("NFC", text)
    return _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()


def safe_url(url: str | None) -> str | None:
    """The URL if it is absolute http(s) with a host and no spaces or controls, else None."""
    if not url or _CONTROL.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if not parts.hostname.isascii():
        # An IDN host goes in its xn-- form: mail clients do not resolve a percent-encoded one.
        try:
            host, port = idna.encode(parts.hostname, uts46=True).decode(), parts.port
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
        userinfo, at, _ = parts.netloc.rpartition("@")
        netloc = userinfo + at + host + ("" if port is None else f":{port}")
        url = parts._replace(netloc=netloc).geturl()
    # Percent-encode what may never appear raw in a URL (quotes, angle brackets, ...).
    return quote(url, safe=_URL_SAFE)


def segments(text: str, spans: Sequence[tuple[int, int]], width: int) -> list[tuple[Segment, ...]]:
    """Snippets of about ``width`` characters around ``spans`` (sorted, non-empty).

    A mention inside the previous snippet is highlighted there; the next one outside starts a
    new snippet, so snippets never overlap and never grow past ``width`` plus one mention.
    """
    windows: list[list[int]] = []
    half = max(width // 2, 10)
    for start, end in spans:
        if windows and end <= windows[-1][1]:
            continue
        if windows and start < windows[-1][1]:
            windows[-1][1] = start  # a mention straddling the edge opens the next snippet
        floor = windows[-1][1] if windows else 0
        windows.append([max(floor, start - half), min(len(text), end + half)])
    out: list[tuple[Segment, ...]] = []
    for lo, hi in windows:
        inner = [(s, e) for s, e in spans if s >= lo and e <= hi]
        if not inner:
            continue
        # Snap inwards to word boundaries so a snippet never starts or ends mid-word.
        if lo > 0:
            cut = text.find(" ", lo, inner[0][0])
            lo = cut + 1 if cut >= 0 else lo
        if hi < len(text):
            cut = text.rfind(" ", inner[-1][1], hi)
            hi = cut if cut >= 0 else hi
        parts = _marked(text, inner, lo, hi)
        cleaned = _tidy(parts, lead="… " if lo > 0 else "", tail=" …" if hi < len(text) else "")
        if cleaned:
            out.append(cleaned)
    return out


def _marked(text: str, spans: Sequence[tuple[int, int]], lo: int, hi: int) -> list[Segment]:
    """``text[lo:hi]`` cut into plain and matched runs; overlapping spans are skipped."""
    parts: list[Segment] = []
    pos = lo
    for start, end in spans:
        if start < pos:
            continue
        parts.append(Segment(text[pos:start]))
        parts.append(Segment(text[start:end], hit=True))
        pos = end
    parts.append(Segment(text[pos:hi]))
    return parts


def _tidy(parts: Sequence[Segment], lead: str, tail: str) -> tuple[Segment, ...]:
    result: list[Segment] = []
    for part in parts:
        # Collapse whitespace but keep a single space at the edges between segments.
        text = _SPACE.sub(" ", _CONTROL.sub(" ", part.text))
        if text:
            result.append(Segment(text, part.hit))
    if not result:
        return ()
    result[0] = Segment(result[0].text.lstrip(), result[0].hit)
    result[-1] = Segment(result[-1].text.rstrip(), result[-1].hit)
    # The ellipses are never part of a highlighted word.
    if lead:
        result.insert(0, Segment(lead))
    if tail:
        result.append(Segment(tail))
    merged: list[Segment] = []
    for part in result:
        if merged and not part.hit and not merged[-1].hit:
            merged[-1] = Segment(merged[-1].text + part.text)
        elif part.text:
            merged.append(part)
    return tuple(merged)


def _highlight_in(snippet: str, needle: str) -> tuple[Segment, ...]:
    # Fallback when the article body is gone: mark the matched text inside the stored snippet.
    text = clean_text(snippet)
    needle = clean_text(needle)
    if not needle:
        return (Segment(text),)
    parts: list[Segment] = []
    pos = 0
    for found in re.finditer(re.escape(needle), text, flags=re.IGNORECASE):
        parts.append(Segment(text[pos : found.start()]))
        parts.append(Segment(found.group(0), hit=True))
        pos = found.end()
    parts.append(Segment(text[pos:]))
    return tuple(p for p in parts if p.text)


def _field_text(article: StoryArticle, field: str) -> str | None:
    return {"title": article.title, "body": article.text, "summary": article.summary}.get(field)


def _snippets(
    article: StoryArticle, matches: Sequence[MatchRow], width: int, limit: int
) -> tuple[tuple[Segment, ...], ...]:
    found: list[tuple[Segment, ...]] = []
    for field in ("body", "summary"):
        rows = [m for m in matches if m.field == field]
        text = _field_text(article, field)
        exact = sorted({(m.start, m.end) for m in rows if text and text[m.start : m.end] == m.text})
        if text and exact:
            found.extend(segments(text, exact, width))
        for m in rows:
            if not text or (m.start, m.end) not in exact:
                found.append(_highlight_in(m.snippet, m.text))
        if found:
            break
    return tuple(found[:limit])


def _title(article: StoryArticle, matches: Sequence[MatchRow]) -> tuple[Segment, ...]:
    title = article.title
    spans = sorted(
        {
            (m.start, m.end)
            for m in matches
            if m.field == "title" and title[m.start : m.end] == m.text
        }
    )
    return _tidy(_marked(title, spans, 0, len(title)), "", "") or (Segment("(untitled)"),)


def outlet_of(article: StoryArticle) -> str:
    return clean_text(article.site_name or article.feed_title or article.feed_id) or "unknown"


def _when(article: StoryArticle, tz: ZoneInfo) -> tuple[str, datetime]:
    moment = (article.published_at or article.fetched_at).astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M %Z"), moment.astimezone(UTC)


def subject_for(story_count: int, watch_names: Sequence[str], spike_count: int = 0) -> str:
    """ "newsradar: 3 stories for NATO, North Korea" (four watches or more are summarised)."""
    counts = []
    if story_count or not spike_count:
        counts.append(f"{story_count} {'story' if story_count == 1 else 'stories'}")
    if spike_count:
        counts.append(f"{spike_count} {'spike' if spike_count == 1 else 'spikes'}")
    names = [clean_text(n) for n in watch_names]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"newsradar: {' and '.join(counts)} for {shown}"


def build_digest(
    recipient: str,
    alerts: Sequence[PendingAlert],
    articles: Mapping[str, StoryArticle],
    matches: Sequence[MatchRow],
    copies: Mapping[str, Sequence[StoryArticle]],
    *,
    watch_names: Mapping[str, str],
    tz: ZoneInfo,
    snippet_chars: int,
    max_snippets: int,
    known_id: str | None = None,
    spikes: Mapping[str, str] | None = None,
) -> Digest:
    """Group the rows by story, then place each story under its first watch, newest first.

    ``watch_names`` maps watch id to display name in watchlist order; rows of watches no
    longer configured are shown under their id, after the others. ``spikes`` maps the
    story id of each spike alert (``spike:<watch>:<day>``) to the sentence that describes it.
    """
    spikes = spikes or {}
    order = {w: i for i, w in enumerate(watch_names)}
    by_story: dict[str, list[PendingAlert]] = {}
    spike_rows: list[PendingAlert] = []
    for row in alerts:
        if row.story_id in spikes:
            spike_rows.append(row)
        else:
            by_story.setdefault(row.story_id, []).append(row)
    spike_rows.sort(key=lambda r: (order.get(r.watch_id, len(order)), r.story_id))
    placed: dict[str, list[Story]] = {}
    for story_id, rows in by_story.items():
        rows.sort(key=lambda r: (order.get(r.watch_id, len(order)), r.watch_id))
        lead = next((articles[r.article_id] for r in rows if r.article_id in articles), None)
        if lead is None:
            continue
        watch_ids = list(dict.fromkeys(r.watch_id for r in rows))
        article_ids = {r.article_id for r in rows}
        mine = [m for m in matches if m.article_id in article_ids and m.watch_id in watch_ids]
        when, moment = _when(lead, tz)
        also = tuple(
            Link(outlet_of(c), clean_text(c.title), safe_url(c.url))
            for c in copies.get(story_id, ())
            if c.id != lead.id
        )
        snippets: list[tuple[Segment, ...]] = []
        for article_id in dict.fromkeys(r.article_id for r in rows):
            if article_id in articles:
                own = [m for m in mine if m.article_id == article_id]
                snippets.extend(_snippets(articles[article_id], own, snippet_chars, max_snippets))
        story = Story(
            story_id=story_id,
            title=_title(lead, [m for m in mine if m.article_id == lead.id]),
            url=safe_url(lead.url),
            outlet=outlet_of(lead),
            when=when,
            sort_key=moment,
            watches=tuple(clean_text(watch_names.get(w, w)) for w in watch_ids),
            snippets=tuple(snippets[:max_snippets]),
            also_in=also,
            kind="update" if all(r.kind == "update" for r in rows) else "match",
        )
        placed.setdefault(watch_ids[0], []).append(story)
    sections = tuple(
        Section(
            clean_text(watch_names.get(w, w)),
            tuple(sorted(stories, key=lambda s: (s.sort_key, s.story_id), reverse=True)),
        )
        for w, stories in sorted(
            placed.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])
        )
    )
    ids = tuple(sorted(r.id for r in alerts))
    count = sum(len(s.stories) for s in sections)
    fired = {w for stories in placed.values() for story in stories for w in story.watches}
    fired |= {clean_text(watch_names.get(r.watch_id, r.watch_id)) for r in spike_rows}
    names = [clean_text(n) for n in watch_names.values()]
    named = [n for n in dict.fromkeys(names) if n in fired]
    named += sorted(fired - set(named))
    return Digest(
        id=known_id or digest_id(ids),
        recipient=recipient,
        subject=subject_for(count, named, len(dict.fromkeys(r.story_id for r in spike_rows))),
        sections=sections,
        alert_ids=ids,
        attempts=max((r.attempts for r in alerts), default=0),
        spikes=tuple(dict.fromkeys(clean_text(spikes[r.story_id]) for r in spike_rows)),
    )
