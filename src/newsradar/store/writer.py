"""What one pass writes: runs, watches, and batches of articles with their matches.

Every batch is ONE transaction: articles, matches, alert rows and the state of the feeds whose
entries it completes. A pass killed between two batches leaves the earlier ones intact and the
later feeds' validators unadvanced, so the next pass picks the rest up and stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from newsradar.config import FetchSettings
from newsradar.dedup import SignatureRow
from newsradar.models import Article, FeedEntry, FeedPoll, Mention
from newsradar.store.alerts import AlertRow, queue_alerts
from newsradar.store.feeds import save_polls
from newsradar.store.stories import save_signatures

# (at, stage, subject, kind, message): one row in `events` per skipped item or error.
Event = tuple[datetime, str, str, str, str]

__all__ = [
    "Event",
    "MatchRow",
    "SeenKeys",
    "WatchRow",
    "finish_run",
    "record_events",
    "seen_keys",
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


@dataclass(frozen=True, slots=True)
class SeenKeys:
    """Identity keys of candidate entries that the database already holds."""

    guids: frozenset[tuple[str, str]]
    urls: frozenset[str]

    def seen(self, entry: FeedEntry) -> bool:
        return (entry.feed_id, entry.guid) in self.guids or (
            bool(entry.canonical_url) and entry.canonical_url in self.urls
        )


def seen_keys(con: duckdb.DuckDBPyConnection, entries: Sequence[FeedEntry]) -> SeenKeys:
    guids = con.execute(
        "SELECT DISTINCT feed_id, guid FROM articles WHERE guid IN (SELECT unnest(?::VARCHAR[]))",
        [sorted({e.guid for e in entries})],
    ).fetchall()
    urls = con.execute(
        "SELECT DISTINCT canonical_url FROM articles"
        " WHERE canonical_url IN (SELECT unnest(?::VARCHAR[]))",
        [sorted({e.canonical_url for e in entries if e.canonical_url})],
    ).fetchall()
    return SeenKeys(frozenset((f, g) for f, g in guids), frozenset(u for (u,) in urls))


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
    "id, feed_id, guid, url, canonical_url, title, summary, text, author, language, site_name,"
    " published_at, updated_at, date_source, fetched_at, text_source, status, reason,"
    " content_hash, story_id, run_id"
)
_MATCH_COLUMNS = 'article_id, watch_id, rule_hash, field, "start", "end", text, snippet, matched_at'


def _article_row(a: Article, run_id: str) -> tuple[object, ...]:
    return (
        a.id, a.feed_id, a.guid, a.url, a.canonical_url, a.title, a.summary, a.text, a.author,
        a.language, a.site_name, a.published_at, a.updated_at, a.date_source, a.fetched_at,
        a.text_source, a.status, a.reason, a.content_hash, a.story_id, run_id,
    )  # fmt: skip


def _insert_new(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: Iterable[tuple[object, ...]]
) -> None:
    """Insert rows whose key is not stored yet, as a few statements whatever their number.

    DuckDB's appender loads the rows into a temporary staging table in one columnar step
    (``executemany`` would run one INSERT per row, ~100x slower); one INSERT ... SELECT then
    adds them, skipping keys already present so a re-run stores nothing twice.
    """
    stage = f"stage_{table}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {columns} FROM {table} LIMIT 0"  # noqa: S608
    )
    appender = con.appender(stage)
    appender.append_rows(rows)
    appender.flush()
    con.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage}"  # noqa: S608
        " ON CONFLICT DO NOTHING"
    )
    con.execute(f"DROP TABLE {stage}")


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
) -> int:
    """Store one batch atomically; return the number of alert rows queued."""
    con.execute("BEGIN TRANSACTION")
    try:
        if articles:
            _insert_new(
                con, "articles", _ARTICLE_COLUMNS, (_article_row(a, run_id) for a in articles)
            )
        if matches:
            _insert_new(
                con,
                "matches",
                _MATCH_COLUMNS,
                (
                    (m.article_id, m.mention.watch_id, m.rule_hash, m.mention.field,
                     m.mention.start, m.mention.end, m.mention.text, m.snippet, now)
                    for m in matches
                ),
            )  # fmt: skip
        queued = queue_alerts(con, alerts)
        save_signatures(con, signatures, now)
        record_events(con, run_id, events)
        save_polls(con, polls, fetch)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return queued


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, started_at: datetime) -> None:
    con.execute(
        "INSERT INTO runs (id, started_at, status) VALUES (?, ?, 'running')", [run_id, started_at]
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, values: dict[str, object]) -> None:
    columns = ", ".join(f"{name} = ?" for name in values)
    con.execute(
        f"UPDATE runs SET {columns} WHERE id = ?",  # noqa: S608  (names are ours, not user input)
        [*values.values(), run_id],
    )


def record_events(con: duckdb.DuckDBPyConnection, run_id: str, events: Sequence[Event]) -> None:
    """Events are (at, stage, subject, kind, message): every skipped item leaves one."""
    if events:
        con.executemany(
            "INSERT INTO events (run_id, logged_at, stage, subject, kind, message)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [[run_id, *e] for e in events],
        )
