"""The hand-offs between stages: small frozen dataclasses, plain data only.

poll feeds ──► FetchResult ──► parse ──► FeedEntry ──► fetch page + extract ──► Article
Article ──► match ──► Mention ──► store ──► alerts outbox ──► deliver
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "Article",
    "FeedEntry",
    "FeedPoll",
    "FeedState",
    "FetchResult",
    "Mention",
    "ParsedFeed",
]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One HTTP response, body fully read within the caps."""

    url: str
    # The URL after redirects; equals ``url`` when there were none.
    final_url: str
    status: int
    # Header names lower-cased; values as received (validators are echoed back byte for byte).
    headers: dict[str, str]
    body: bytes
    # Permanent redirects (301/308) seen on the way, as (from, to) pairs.
    permanent_redirects: tuple[tuple[str, str], ...] = ()
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class FeedState:
    """What we remember about a feed between passes (a row of ``feeds``)."""

    feed_id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    # sha256 of the last body parsed; an identical 200 body is skipped.
    body_hash: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    # A permanent redirect target seen on the previous poll (updated after two in a row).
    redirect_candidate: str | None = None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a parsed feed, with the identity the rest of the pipeline uses."""

    feed_id: str
    # The feed's guid/id, or a synthetic one (hash of link + title) when it has none.
    guid: str
    # The link as published; may be empty for link-less entries.
    url: str
    # Normalised URL used for dedup (scheme/host lower-cased, tracking params dropped).
    canonical_url: str
    title: str
    # Feed-provided summary as plain text (markup stripped); the fallback body.
    summary: str
    author: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    # Flags raised while parsing, e.g. "date_clamped", "guid_synthesized".
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The result of parsing one feed document."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    # Problems noticed (bozo exceptions, encoding overrides, entries cut at the cap).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    """An entry with its extracted page, ready to match and store."""

    id: str
    feed_id: str
    guid: str
    url: str
    canonical_url: str
    title: str
    text: str
    fetched_at: datetime
    summary: str = ""
    author: str | None = None
    language: str | None = None
    site_name: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    # Where published_at came from: "feed", "page" or "url".
    date_source: str | None = None
    # "page" when the body came from the article page, "feed" when it is the feed summary.
    text_source: str = "page"
    # "ok", or a reason the text is partial: "partial_text", "unsupported_content_type", ...
    status: str = "ok"
    reason: str | None = None
    # sha256 of the normalised body; equal hashes are the same article.
    content_hash: str = ""
    # Articles carrying the same story share this id; the first one seen is the lead.
    story_id: str = ""
    flags: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Mention:
    """One span of text that made a watch fire.

    ``start``/``end`` are Python string offsets into the original (un-normalised) text of
    ``field``, and ``text`` is exactly that slice.
    """

    watch_id: str
    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """The outcome of polling one feed in one pass, as persisted in ``feeds``."""

    feed_id: str
    attempted_at: datetime
    # "ok" (parsed), "not_modified" (304), "unchanged" (identical body), "failed", "skipped".
    outcome: str
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    title: str | None = None
    error_class: str | None = None
    error_message: str | None = None
    new_items: int = 0
    # Publication times of the entries seen, for learning the feed's cadence.
    entry_times: tuple[datetime, ...] = ()
    # Permanent redirect target seen on this poll (stored URL changes after two in a row).
    redirect_to: str | None = None
