"""Feed state and health in DuckDB: every SQL statement about ``feeds`` and ``hosts``.

The rules (back-off, learned interval, redirects) are pure functions in
:mod:`newsradar.health`; this module only reads the previous row and writes the next one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb

from newsradar.config import FeedConfig, FetchSettings
from newsradar.health import FeedHealth, FeedRow, next_health
from newsradar.identity import RETRY_STATUSES
from newsradar.models import FeedPoll, FeedState

__all__ = [
    "load_feed_rows",
    "load_feed_states",
    "load_host_blocks",
    "removed_feeds",
    "save_host_blocks",
    "save_polls",
    "sync_feeds",
]

# How long a page that failed for a while keeps its feed read in full, when the feed does not
# change: beyond that the story is old news, and a feed whose pages stay down is read in full
# at every poll for nothing.
RETRY_WINDOW = timedelta(days=3)


def removed_feeds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Name -> configured URL of the feeds taken out of feeds.toml (their rows stay)."""
    rows = con.execute("SELECT id, configured_url FROM feeds WHERE removed_at IS NOT NULL")
    return dict(rows.fetchall())


def sync_feeds(con: duckdb.DuckDBPyConnection, feeds: Sequence[FeedConfig], now: datetime) -> None:
    """Insert feeds new in feeds.toml; a changed configured URL replaces the polled one
    (and forgets the old URL's validators, redirect candidate and failures). A feed no longer
    in feeds.toml keeps its row, marked ``removed_at``, until it comes back."""
    for feed in feeds:
        con.execute(
            """
            INSERT INTO feeds (id, url, configured_url, title) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                url = CASE WHEN feeds.configured_url <> excluded.configured_url
                           THEN excluded.url ELSE feeds.url END,
                etag = CASE WHEN feeds.configured_url <> excluded.configured_url
                            THEN NULL ELSE feeds.etag END,
                last_modified = CASE WHEN feeds.configured_url <> excluded.configured_url
                                     THEN NULL ELSE feeds.last_modified END,
                redirect_candidate = CASE WHEN feeds.configured_url <> excluded.configured_url
                                          THEN NULL ELSE feeds.redirect_candidate END,
                next_poll_at = CASE WHEN feeds.configured_url <> excluded.configured_url
                                    THEN NULL ELSE feeds.next_poll_at END,
                configured_url = excluded.configured_url,
                removed_at = NULL
            """,
            [feed.name, feed.url, feed.url, feed.title],
        )
    con.execute(
        "UPDATE feeds SET removed_at = ?"
        " WHERE removed_at IS NULL AND id NOT IN (SELECT unnest(?::VARCHAR[]))",
        [now, [feed.name for feed in feeds]],
    )


def load_feed_states(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, FeedState]:
    """What the poller needs for each feed: URL, validators, body hash, schedule.

    A feed with a page to fetch again (an article stored from the feed's text because its page
    failed for a while, within :data:`RETRY_WINDOW`) gets no validators and no body hash: it
    is read in full even when it did not change, so that its entries bring the page back.
    """
    rows = con.execute(
        """
        SELECT f.id, f.url,
               CASE WHEN r.feed_id IS NULL THEN f.etag END,
               CASE WHEN r.feed_id IS NULL THEN f.last_modified END,
               CASE WHEN r.feed_id IS NULL THEN f.body_hash END,
               f.consecutive_failures, f.next_poll_at, f.redirect_candidate
        FROM feeds AS f
        LEFT JOIN (
            SELECT DISTINCT feed_id FROM articles
            WHERE status IN (SELECT unnest(?::VARCHAR[])) AND fetched_at >= ?
        ) AS r ON r.feed_id = f.id
        """,
        [sorted(RETRY_STATUSES), now - RETRY_WINDOW],
    ).fetchall()
    return {
        r[0]: FeedState(
            feed_id=r[0],
            url=r[1],
            etag=r[2],
            last_modified=r[3],
            body_hash=r[4],
            consecutive_failures=r[5],
            next_poll_at=r[6],
            redirect_candidate=r[7],
        )
        for r in rows
    }


_PREVIOUS = (
    "SELECT id, url, consecutive_failures, next_poll_at, poll_interval_s, cadence_s,"
    " redirect_candidate, etag, last_modified, body_hash FROM feeds WHERE list_contains(?, id)"
)
_UPDATE = """
    UPDATE feeds SET
        url = ?, last_attempt_at = ?, http_status = ?, title = coalesce(?, title),
        etag = ?, last_modified = ?, body_hash = ?,
        last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END,
        last_new_item_at = CASE WHEN ? THEN ? ELSE last_new_item_at END,
        error_class = ?, error_message = ?, consecutive_failures = ?, next_poll_at = ?,
        poll_interval_s = ?, cadence_s = ?, redirect_candidate = ?
    WHERE id = ?
"""


def _validators(poll: FeedPoll, old: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    etag, modified, body_hash = old
    if poll.outcome in ("ok", "unchanged"):
        # A full answer replaces the validators: echo exactly what the server last sent.
        return poll.etag, poll.last_modified, poll.body_hash or body_hash
    if poll.outcome == "not_modified":
        return poll.etag or etag, poll.last_modified or modified, body_hash
    return etag, modified, body_hash


def save_polls(
    con: duckdb.DuckDBPyConnection,
    polls: Sequence[FeedPoll],
    settings: FetchSettings | None = None,
) -> None:
    """Record poll outcomes and the feeds' next health (call inside the transaction that
    stores their entries). ``settings`` bounds the learned poll interval."""
    polls = [p for p in polls if p.outcome != "skipped"]
    if not polls:
        return
    settings = settings or FetchSettings()
    previous = {r[0]: r for r in con.execute(_PREVIOUS, [[p.feed_id for p in polls]]).fetchall()}
    updates = []
    for poll in polls:
        row = previous.get(poll.feed_id)
        if row is None:
            continue  # not in feeds.toml any more
        before = FeedHealth(
            url=row[1],
            consecutive_failures=row[2],
            next_poll_at=row[3],
            poll_interval_s=row[4],
            cadence_s=row[5],
            redirect_candidate=row[6],
        )
        after = next_health(before, poll, settings)
        ok = poll.outcome != "failed"
        updates.append(
            [
                after.url,
                poll.attempted_at,
                poll.http_status,
                poll.title,
                *_validators(poll, row[7:10]),
                ok,
                poll.attempted_at,
                poll.new_items > 0,
                poll.attempted_at,
                None if ok else poll.error_class,
                None if ok else poll.error_message,
                after.consecutive_failures,
                after.next_poll_at,
                after.poll_interval_s,
                after.cadence_s,
                after.redirect_candidate,
                poll.feed_id,
            ]
        )
        previous[poll.feed_id] = (row[0], after.url, after.consecutive_failures, *row[3:])
    if updates:
        con.executemany(_UPDATE, updates)


def load_feed_rows(con: duckdb.DuckDBPyConnection) -> list[FeedRow]:
    """The health of every feed in feeds.toml (not of removed ones), for ``newsradar feeds``
    and the maintenance report."""
    rows = con.execute(
        "SELECT id, url, last_attempt_at, last_success_at, last_new_item_at, http_status,"
        " error_class, error_message, consecutive_failures, next_poll_at, poll_interval_s,"
        " cadence_s FROM feeds WHERE removed_at IS NULL ORDER BY id"
    ).fetchall()
    return [FeedRow(*r) for r in rows]


def load_host_blocks(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, datetime]:
    """Hosts that asked us (Retry-After) not to come back before a time still ahead."""
    rows = con.execute("SELECT host, blocked_until FROM hosts WHERE blocked_until > ?", [now])
    return {host: until for host, until in rows.fetchall()}


def save_host_blocks(con: duckdb.DuckDBPyConnection, blocks: Mapping[str, datetime]) -> None:
    """Persist Retry-After blocks so the next run honours them too (the later time wins)."""
    for host, until in blocks.items():
        con.execute(
            "INSERT INTO hosts (host, blocked_until, reason) VALUES (?, ?, 'retry_after')"
            " ON CONFLICT (host) DO UPDATE SET"
            " blocked_until = greatest(hosts.blocked_until, excluded.blocked_until)",
            [host, until],
        )
