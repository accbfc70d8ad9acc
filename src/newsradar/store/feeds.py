"""Feed state and health in DuckDB: what the poller remembers between passes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from newsradar.config import FeedConfig
from newsradar.models import FeedPoll, FeedState

__all__ = ["load_feed_states", "load_host_blocks", "save_host_blocks", "save_polls", "sync_feeds"]


def sync_feeds(con: duckdb.DuckDBPyConnection, feeds: Sequence[FeedConfig]) -> None:
    """Insert feeds new in feeds.toml; a changed configured URL replaces the polled one."""
    for feed in feeds:
        con.execute(
            """
            INSERT INTO feeds (id, url, configured_url, title) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                url = CASE WHEN feeds.configured_url <> excluded.configured_url
                           THEN excluded.url ELSE feeds.url END,
                configured_url = excluded.configured_url
            """,
            [feed.name, feed.url, feed.url, feed.title],
        )


def load_feed_states(con: duckdb.DuckDBPyConnection) -> dict[str, FeedState]:
    rows = con.execute(
        "SELECT id, url, etag, last_modified, body_hash, consecutive_failures, next_poll_at,"
        " redirect_candidate FROM feeds"
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


def save_polls(con: duckdb.DuckDBPyConnection, polls: Sequence[FeedPoll]) -> None:
    """Record poll outcomes (call inside the transaction that stores their entries)."""
    for p in polls:
        failed = p.outcome == "failed"
        con.execute(
            """
            UPDATE feeds SET
                last_attempt_at = ?,
                http_status = coalesce(?, http_status),
                title = coalesce(?, title),
                etag = CASE WHEN ? THEN etag ELSE coalesce(?, etag) END,
                last_modified = CASE WHEN ? THEN last_modified ELSE coalesce(?, last_modified) END,
                body_hash = coalesce(?, body_hash),
                last_success_at = CASE WHEN ? THEN last_success_at ELSE ? END,
                last_new_item_at = CASE WHEN ? > 0 THEN ? ELSE last_new_item_at END,
                error_class = CASE WHEN ? THEN ? ELSE NULL END,
                error_message = CASE WHEN ? THEN ? ELSE NULL END,
                consecutive_failures = CASE WHEN ? THEN consecutive_failures + 1 ELSE 0 END
            WHERE id = ?
            """,
            [
                p.attempted_at,
                p.http_status,
                p.title,
                failed,
                p.etag,
                failed,
                p.last_modified,
                p.body_hash,
                failed,
                p.attempted_at,
                p.new_items,
                p.attempted_at,
                failed,
                p.error_class,
                failed,
                p.error_message,
                failed,
                p.feed_id,
            ],
        )


def load_host_blocks(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, datetime]:
    rows = con.execute("SELECT host, blocked_until FROM hosts WHERE blocked_until > ?", [now])
    return {host: until for host, until in rows.fetchall()}


def save_host_blocks(con: duckdb.DuckDBPyConnection, blocks: dict[str, datetime]) -> None:
    for host, until in blocks.items():
        con.execute(
            "INSERT INTO hosts (host, blocked_until, reason) VALUES (?, ?, 'retry_after')"
            " ON CONFLICT (host) DO UPDATE SET blocked_until = excluded.blocked_until",
            [host, until],
        )
