"""Polling feeds: conditional GET, identical-body skip, parsing, and what to remember.

Each feed's outcome is a :class:`FeedPoll` (persisted with the batch that stores its entries)
plus the entries it carried and the events worth a row.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from newsradar.config import Config, FeedConfig
from newsradar.errors import FetchError, ParseError, bug_message
from newsradar.feeds import parse_feed
from newsradar.fetch import Fetcher
from newsradar.health import permanent_target
from newsradar.models import FeedEntry, FeedPoll, FeedState
from newsradar.progress import Ticker
from newsradar.store.writer import Event

__all__ = ["FeedOutcome", "is_due", "poll_due_feeds", "poll_feed"]

# What polling one feed yields: its poll record, its entries, and events worth a row.
FeedOutcome = tuple[FeedPoll, tuple[FeedEntry, ...], tuple[Event, ...]]


def _now() -> datetime:
    return datetime.now(UTC)


def is_due(feed: FeedConfig, state: FeedState | None, now: datetime) -> bool:
    if not feed.enabled:
        return False
    return state is None or state.next_poll_at is None or state.next_poll_at <= now


async def poll_feed(
    fetcher: Fetcher, config: Config, feed: FeedConfig, state: FeedState | None
) -> FeedOutcome:
    at = _now()
    url = state.url if state else feed.url
    try:
        result = await fetcher.fetch_feed(
            url,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
            headers=feed.headers,
        )
    except FetchError as exc:
        poll = FeedPoll(feed.name, at, "failed", exc.status, error_class=exc.kind,
                        error_message=str(exc))  # fmt: skip
        return poll, (), ((at, "fetch", feed.name, exc.kind, str(exc)),)
    etag, modified = result.headers.get("etag"), result.headers.get("last-modified")
    moved = permanent_target(url, result)
    if result.not_modified:
        return (
            FeedPoll(feed.name, at, "not_modified", 304, etag, modified, redirect_to=moved),
            (),
            (),
        )
    body_hash = hashlib.sha256(result.body).hexdigest()
    if state is not None and state.body_hash == body_hash:
        return (
            FeedPoll(
                feed.name,
                at,
                "unchanged",
                result.status,
                etag,
                modified,
                body_hash,
                redirect_to=moved,
            ),
            (),
            (),
        )
    try:
        # In a thread: the parser worker may take up to its time limit.
        parsed = await asyncio.to_thread(
            parse_feed,
            feed.name,
            result.body,
            headers=result.headers,
            base_url=result.final_url,
            max_entries=config.fetch.max_entries_per_feed,
            now=at,
            time_limit=config.fetch.parse_timeout,
        )
    except ParseError as exc:
        poll = FeedPoll(feed.name, at, "failed", result.status, error_class=exc.kind,
                        error_message=str(exc))  # fmt: skip
        return poll, (), ((at, "parse", feed.name, exc.kind, str(exc)),)
    events = tuple((at, "parse", feed.name, "warning", w) for w in parsed.warnings)
    poll = FeedPoll(
        feed.name, at, "ok", result.status, etag, modified, body_hash, parsed.title,
        entry_times=tuple(e.published_at for e in parsed.entries if e.published_at),
        redirect_to=moved,
    )  # fmt: skip
    return poll, parsed.entries, events


async def poll_due_feeds(
    config: Config,
    due: Sequence[FeedConfig],
    states: Mapping[str, FeedState],
    host_blocks: Mapping[str, datetime],
    ticker: Ticker,
) -> tuple[list[FeedOutcome], dict[str, datetime]]:
    """Poll ``due`` concurrently with one client; also return the hosts that asked us to wait."""

    async def guarded(feed: FeedConfig) -> FeedOutcome:
        try:
            return await poll_feed(fetcher, config, feed, states.get(feed.name))
        except Exception as exc:  # a bug on one hostile feed must not end the pass
            at, message = _now(), bug_message(exc)
            poll = FeedPoll(feed.name, at, "failed", None, error_class="internal_error",
                            error_message=message)  # fmt: skip
            return poll, (), ((at, "parse", feed.name, "internal_error", message),)

    async with Fetcher(config.fetch, host_blocks=host_blocks) as fetcher:
        results = await asyncio.gather(*(ticker.wrap(guarded(f)) for f in due))
        return list(results), fetcher.host_blocks
