"""The alert outbox in DuckDB: every SQL statement about alerts lives here.

Life of a row::

    queue_alerts ──► pending ──► claim_digest (digest_id set) ──► sent
                                        │                     ├──► retrying (due_at pushed back)
                                        │                     └──► failed (5xx, reported)
                                        └── crash before marking: still pending with its
                                            digest_id, so the resend has the same Message-ID

Rows are keyed by (recipient, watch_id, story_id, kind): a second insert of the same key is a
no-op, which is what makes "never alerted twice" hold across passes and syndicated copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

__all__ = [
    "AlertRow",
    "MatchRow",
    "PendingAlert",
    "StoryArticle",
    "claim_digest",
    "due_alerts",
    "load_articles",
    "load_copies",
    "load_matches",
    "mark_failed",
    "mark_retrying",
    "mark_sent",
    "note_blocked",
    "queue_alerts",
    "record_event",
]


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One planned alert, as inserted into the outbox."""

    # Deterministic from (recipient, watch_id, story_id, kind), so a replay collides.
    id: str
    recipient: str
    watch_id: str
    story_id: str
    # The article that made the watch fire first; the digest's headline for the story.
    article_id: str
    kind: str
    created_at: datetime
    # Earliest time to deliver (the recipient's digest slot); None means "now".
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An outbox row waiting for delivery."""

    id: str
    recipient: str
    watch_id: str
    story_id: str
    article_id: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    due_at: datetime | None
    # Set when the row was first put into a mail; a resend reuses it (same Message-ID).
    digest_id: str | None


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """What a digest shows about one article."""

    id: str
    story_id: str
    feed_id: str
    url: str
    title: str
    # Body and summary may be NULL once pruned; snippets then come from the matches table.
    text: str | None
    summary: str | None
    site_name: str | None
    feed_title: str | None
    published_at: datetime | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class MatchRow:
    """One stored mention (a row of ``matches``)."""

    article_id: str
    watch_id: str
    field: str
    start: int
    end: int
    text: str
    snippet: str


_ARTICLE_COLUMNS = """
    ar.id, ar.story_id, ar.feed_id, ar.url, ar.title, ar.text, ar.summary, ar.site_name,
    f.title, ar.published_at, ar.fetched_at
"""
_COPY_COLUMNS = _ARTICLE_COLUMNS.replace("ar.text, ar.summary", "NULL, NULL")


def queue_alerts(con: duckdb.DuckDBPyConnection, rows: Sequence[AlertRow]) -> int:
    """Insert alert rows inside the caller's transaction; return how many were new.

    One alert per (recipient, watch, story) whatever its kind: an ``update`` row is skipped
    when that story was already alerted for that watch (an edit that dropped a watch and
    brought it back, or another copy of the story that newly fires it).
    """
    unique = {(r.recipient, r.watch_id, r.story_id): r for r in reversed(rows)}
    if not unique:
        return 0
    batch = list(unique.values())
    inserted = con.execute(
        """
        INSERT INTO alerts (id, recipient, watch_id, story_id, article_id, kind, created_at,
                            due_at)
        SELECT * FROM (
            SELECT unnest(?::VARCHAR[]) AS id, unnest(?::VARCHAR[]) AS recipient,
                   unnest(?::VARCHAR[]) AS watch_id, unnest(?::VARCHAR[]) AS story_id,
                   unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
                   unnest(?::TIMESTAMPTZ[]), unnest(?::TIMESTAMPTZ[])
        ) AS new
        WHERE NOT EXISTS (
            SELECT 1 FROM alerts a
            WHERE a.recipient = new.recipient AND a.watch_id = new.watch_id
              AND a.story_id = new.story_id
        )
        -- A replayed id (deterministic, see AlertRow.id). Named: DuckDB checks a target-less
        -- ON CONFLICT row by row against every unique index, 5 ms a row on 1M alerts.
        ON CONFLICT (id) DO NOTHING
        RETURNING id
        """,
        [
            [r.id for r in batch],
            [r.recipient for r in batch],
            [r.watch_id for r in batch],
            [r.story_id for r in batch],
            [r.article_id for r in batch],
            [r.kind for r in batch],
            [r.created_at for r in batch],
            [r.due_at or r.created_at for r in batch],
        ],
    ).fetchall()
    return len(inserted)


def due_alerts(
    con: duckdb.DuckDBPyConnection,
    now: datetime | None,
    *,
    recipient: str | None = None,
) -> list[PendingAlert]:
    """Pending and retrying rows due by ``now`` (all of them when ``now`` is None)."""
    rows = con.execute(
        """
        SELECT id, recipient, watch_id, story_id, article_id, kind, status, attempts,
               created_at, due_at, digest_id
        FROM alerts
        WHERE status IN ('pending', 'retrying')
          AND (?::TIMESTAMPTZ IS NULL OR due_at IS NULL OR due_at <= ?::TIMESTAMPTZ)
          AND (?::VARCHAR IS NULL OR recipient = ?::VARCHAR)
        ORDER BY recipient, created_at, id
        """,
        [now, now, recipient, recipient],
    ).fetchall()
    return [PendingAlert(*row) for row in rows]


def claim_digest(con: duckdb.DuckDBPyConnection, ids: Sequence[str], digest_id: str) -> None:
    """Record which mail the rows go out in, before sending it (outbox: intent first)."""
    _update(con, ids, "digest_id = ?", [digest_id])


def load_articles(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> list[StoryArticle]:
    """The articles named by alert rows, with their feed's title."""
    rows = con.execute(
        f"""
        SELECT {_ARTICLE_COLUMNS}
        FROM articles ar LEFT JOIN feeds f ON f.id = ar.feed_id
        WHERE ar.id IN (SELECT unnest(?::VARCHAR[]))
        """,  # noqa: S608  (a constant column list; values are bound parameters)
        [list(ids)],
    ).fetchall()
    return [StoryArticle(*row) for row in rows]


def load_copies(
    con: duckdb.DuckDBPyConnection, story_ids: Sequence[str], limit: int = 10
) -> list[StoryArticle]:
    """Other articles of the same stories (syndicated copies), oldest first, a few each.

    A digest only links them, so they come without ``text`` and ``summary``: carrying the
    bodies through the window below made this query 50 times slower (0.4 s for 35 stories of
    16 copies each).
    """
    rows = con.execute(
        f"""
        SELECT * EXCLUDE (n) FROM (
            SELECT {_COPY_COLUMNS},
                   row_number() OVER (PARTITION BY ar.story_id
                                      ORDER BY ar.fetched_at, ar.id) AS n
            FROM articles ar LEFT JOIN feeds f ON f.id = ar.feed_id
            WHERE ar.story_id IN (SELECT unnest(?::VARCHAR[]))
        ) WHERE n <= ?
        ORDER BY story_id, fetched_at, id
        """,  # noqa: S608  (a constant column list; values are bound parameters)
        [list(story_ids), limit + 1],
    ).fetchall()
    return [StoryArticle(*row) for row in rows]


def load_matches(
    con: duckdb.DuckDBPyConnection, article_ids: Sequence[str], watch_ids: Sequence[str]
) -> list[MatchRow]:
    """The mentions of the given watches in the given articles, in text order."""
    rows = con.execute(
        """
        SELECT article_id, watch_id, field, "start", "end", text, snippet
        FROM matches
        WHERE article_id IN (SELECT unnest(?::VARCHAR[]))
          AND watch_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY article_id, field, "start"
        """,
        [list(article_ids), list(watch_ids)],
    ).fetchall()
    return [MatchRow(*row) for row in rows]


def _update(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], assignments: str, values: list[object]
) -> None:
    con.execute(
        f"UPDATE alerts SET {assignments} WHERE id IN (SELECT unnest(?::VARCHAR[]))",  # noqa: S608  (assignments are constants below)
        [*values, list(ids)],
    )


def mark_sent(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], *, now: datetime, digest_id: str
) -> None:
    _update(
        con,
        ids,
        "status = 'sent', attempts = attempts + 1, sent_at = ?, digest_id = ?, last_error = NULL",
        [now, digest_id],
    )


def mark_failed(con: duckdb.DuckDBPyConnection, ids: Sequence[str], *, error: str) -> None:
    """A permanent refusal (5xx): the rows are reported and not tried again."""
    _update(con, ids, "status = 'failed', attempts = attempts + 1, last_error = ?", [error])


def mark_retrying(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], *, error: str, due_at: datetime
) -> None:
    """A temporary failure: try again at ``due_at`` with the same digest."""
    _update(
        con,
        ids,
        "status = 'retrying', attempts = attempts + 1, last_error = ?, due_at = ?",
        [error, due_at],
    )


def note_blocked(con: duckdb.DuckDBPyConnection, ids: Sequence[str], *, error: str) -> None:
    """Delivery refused on our side (TLS, AUTH): keep the status, say why."""
    _update(con, ids, "last_error = ?", [error])


def record_event(
    con: duckdb.DuckDBPyConnection, at: datetime, subject: str, kind: str, message: str
) -> None:
    """A row in ``events`` saying why a mail was not delivered."""
    con.execute(
        "INSERT INTO events (run_id, logged_at, stage, subject, kind, message)"
        " VALUES (NULL, ?, 'deliver', ?, ?, ?)",
        [at, subject, kind, message],
    )
