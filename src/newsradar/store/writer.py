"""What one pass writes: runs, watches, and batches of articles with their matches.

Every batch is ONE transaction: articles, matches, alert rows and the state of the feeds whose
entries it completes. A pass killed between two batches leaves the earlier ones intact and the
later feeds' validators unadvanced, so the next pass picks the rest up and stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

import duckdb

from newsradar.config import FetchSettings
from newsradar.dedup import SignatureRow
from newsradar.models import Article, FeedPoll, Mention
from newsradar.store.alerts import AlertRow, queue_alerts
from newsradar.store.bulk import Row, append_rows, insert_new
from newsradar.store.connection import transaction
from newsradar.store.feeds import save_polls
from newsradar.store.stories import save_signatures, update_articles

# (at, stage, subject, kind, message): one row in `events` per skipped item or error.
Event = tuple[datetime, str, str, str, str]

__all__ = [
    "Event",
    "MatchRow",
    "WatchRow",
    "finish_run",
    "record_events",
    "start_run",
    "sync_watches",
    "write_batch",
]


@dataclass(frozen=True, slots=True)
class MatchRow:
    article_id: str
    mention: Mention
    # Hash of the watch definition that produced the mention.
    rule_hash: str
    snippet: str


@dataclass(frozen=True, slots=True)
class WatchRow:
    id: str
    name: str
    rule_hash: str
    definition: str


def sync_watches(
    con: duckdb.DuckDBPyConnection, watches: Iterable[WatchRow], now: datetime
) -> None:
    """Record each watch definition; ``updated_at`` moves only when the definition changes."""
    for w in watches:
        con.execute(
            """
            INSERT INTO watches (id, name, rule_hash, definition, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                name = excluded.name,
                updated_at = CASE WHEN watches.rule_hash <> excluded.rule_hash
                                  THEN excluded.updated_at ELSE watches.updated_at END,
                rule_hash = excluded.rule_hash,
                definition = excluded.definition
            """,
            [w.id, w.name, w.rule_hash, w.definition, now],
        )


_ARTICLE_COLUMNS = (
    "id", "feed_id", "guid", "url", "canonical_url", "title", "summary", "text", "author",
    "language", "site_name", "published_at", "updated_at", "date_source", "fetched_at",
    "text_source", "status", "reason", "content_hash", "story_id", "run_id",
)  # fmt: skip
_EVENT_COLUMNS = ("run_id", "logged_at", "stage", "subject", "kind", "message")
_MATCH_COLUMNS = (
    "article_id", "watch_id", "rule_hash", "field", "start", "end", "text", "snippet",
    "matched_at",
)  # fmt: skip


def _article_row(a: Article, run_id: str) -> Row:
    return (
        a.id, a.feed_id, a.guid, a.url, a.canonical_url, a.title, a.summary, a.text, a.author,
        a.language, a.site_name, a.published_at, a.updated_at, a.date_source, a.fetched_at,
        a.text_source, a.status, a.reason, a.content_hash, a.story_id, run_id,
    )  # fmt: skip


def _stored_articles(con: duckdb.DuckDBPyConnection, ids: Iterable[str]) -> set[str]:
    rows = con.execute(
        "SELECT id FROM articles WHERE id IN (SELECT unnest(?::VARCHAR[]))", [sorted(set(ids))]
    ).fetchall()
    return {row[0] for row in rows}


def _unique(rows: Iterable[Row], key: Callable[[Row], object]) -> list[Row]:
    """First row of each key, in order (a batch may carry a row twice)."""
    seen: dict[object, Row] = {}
    for row in rows:
        seen.setdefault(key(row), row)
    return list(seen.values())


def write_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    articles: Sequence[Article],
    matches: Sequence[MatchRow],
    polls: Sequence[FeedPoll],
    alerts: Sequence[AlertRow],
    events: Sequence[Event],
    now: datetime,
    fetch: FetchSettings | None = None,
    signatures: Sequence[SignatureRow] = (),
    updated: Sequence[Article] = (),
) -> int:
    """Store one batch atomically; return the number of alert rows queued.

    Rows already stored are skipped (a re-run stores nothing twice). New articles and their
    matches are appended directly; matches of articles stored before go through a staging
    table so that only their missing rows are added.
    """
    with transaction(con):
        # Edited articles: new content, old matches dropped; their new matches follow.
        update_articles(con, updated, run_id)
        stored = _stored_articles(con, [a.id for a in articles] + [m.article_id for m in matches])
        article_rows = _unique(
            (_article_row(a, run_id) for a in articles if a.id not in stored), itemgetter(0)
        )
        match_rows = _unique(
            (
                (m.article_id, m.mention.watch_id, m.rule_hash, m.mention.field,
                 m.mention.start, m.mention.end, m.mention.text, m.snippet, now)
                for m in matches
            ),
            itemgetter(0, 1, 3, 4),  # the primary key: article, watch, field, start
        )  # fmt: skip
        append_rows(con, "articles", _ARTICLE_COLUMNS, article_rows)
        append_rows(con, "matches", _MATCH_COLUMNS, [r for r in match_rows if r[0] not in stored])
        insert_new(con, "matches", _MATCH_COLUMNS, [r for r in match_rows if r[0] in stored])
        queued = queue_alerts(con, alerts)
        save_signatures(con, signatures, now)
        record_events(con, run_id, events)
        save_polls(con, polls, fetch)
    return queued


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, started_at: datetime) -> datetime:
    """Record the pass ``run_id`` as running; return when it started.

    Idempotent: a retried start of the same pass (its first attempt committed the row, then
    failed on the checkpoint) finds that row and keeps it, start time included, rather than
    adding a second row that nothing would ever finish.
    """
    con.execute(
        "INSERT INTO runs (id, started_at, status) VALUES (?, ?, 'running')"
        " ON CONFLICT (id) DO NOTHING",
        [run_id, started_at],
    )
    row = con.execute("SELECT started_at FROM runs WHERE id = ?", [run_id]).fetchone()
    return row[0] if row else started_at


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, values: dict[str, object]) -> None:
    columns = ", ".join(f"{name} = ?" for name in values)
    con.execute(
        f"UPDATE runs SET {columns} WHERE id = ?",  # noqa: S608  (names are ours, not user input)
        [*values.values(), run_id],
    )


def record_events(con: duckdb.DuckDBPyConnection, run_id: str, events: Sequence[Event]) -> None:
    """Events are (at, stage, subject, kind, message): every skipped item leaves one."""
    append_rows(con, "events", _EVENT_COLUMNS, [(run_id, *e) for e in events])
