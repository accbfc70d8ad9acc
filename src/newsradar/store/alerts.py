"""The alert outbox in DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from newsradar.alerts.outbox import AlertRow

__all__ = ["AlertRow", "DueAlert", "due_alerts", "mark_alerts", "queue_alerts"]


@dataclass(frozen=True, slots=True)
class DueAlert:
    id: str
    recipient: str
    watch_id: str
    watch_name: str
    article_id: str
    title: str
    url: str
    feed_id: str
    published_at: datetime | None
    snippets: tuple[str, ...]


def queue_alerts(con: duckdb.DuckDBPyConnection, rows: Sequence[AlertRow]) -> int:
    """Insert alert rows inside the caller's transaction; return how many were new."""
    if not rows:
        return 0
    before = con.execute("SELECT count(*) FROM alerts").fetchone()
    con.executemany(
        "INSERT INTO alerts (id, recipient, watch_id, story_id, article_id, kind, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [[r.id, r.recipient, r.watch_id, r.story_id, r.article_id, r.kind, r.created_at]
         for r in rows],
    )  # fmt: skip
    after = con.execute("SELECT count(*) FROM alerts").fetchone()
    return int(after[0] if after else 0) - int(before[0] if before else 0)


def due_alerts(con: duckdb.DuckDBPyConnection) -> list[DueAlert]:
    rows = con.execute(
        """
        SELECT a.id, a.recipient, a.watch_id, coalesce(w.name, a.watch_id), a.article_id,
               ar.title, ar.url, ar.feed_id, ar.published_at,
               list(m.snippet ORDER BY m.field DESC, m."start")
        FROM alerts a
        JOIN articles ar ON ar.id = a.article_id
        LEFT JOIN watches w ON w.id = a.watch_id
        LEFT JOIN matches m ON m.article_id = a.article_id AND m.watch_id = a.watch_id
        WHERE a.status IN ('pending', 'retrying')
        GROUP BY ALL
        ORDER BY a.recipient, a.watch_id, ar.published_at DESC NULLS LAST
        """
    ).fetchall()
    return [
        DueAlert(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], tuple(s for s in r[9] if s))
        for r in rows
    ]


def mark_alerts(
    con: duckdb.DuckDBPyConnection,
    ids: Sequence[str],
    status: str,
    *,
    now: datetime,
    error: str | None = None,
    digest_id: str | None = None,
) -> None:
    con.execute(
        "UPDATE alerts SET status = ?, attempts = attempts + 1, last_error = ?, digest_id = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
        " WHERE id IN (SELECT unnest(?::VARCHAR[]))",
        [status, error, digest_id, status, now, list(ids)],
    )
