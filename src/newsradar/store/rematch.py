"""SQL for ``newsradar rematch``: read stored articles and matches, replace a watch's matches.

The command reads everything it needs through a reader, matches in Python, and only then opens
the writer for one short transaction that replaces the matches of the changed watches for
exactly the articles it read (articles stored meanwhile by a pass are left alone).

Articles whose page body retention cleared (``[storage] keep_days``) are out of scope: their
body cannot be matched again, and retention promises to keep their matches. An article whose
body was the feed's summary (``text_source = 'feed'``) still has it, and is matched again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from newsradar.store.connection import transaction
from newsradar.store.writer import MatchRow

__all__ = ["StoredArticle", "load_articles", "load_matches", "replace_matches"]


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: str
    title: str
    # The body that was matched: the extracted text, or the feed summary that stood for it.
    text: str
    url: str
    feed_id: str
    language: str | None


def load_articles(con: duckdb.DuckDBPyConnection, since: datetime | None) -> list[StoredArticle]:
    """Articles published (or, lacking a date, fetched) at or after ``since`` (all if None),
    except those whose page body retention cleared."""
    rows = con.execute(
        "SELECT id, title, coalesce(text, summary, ''), url, feed_id, language FROM articles "
        "WHERE (CAST(? AS TIMESTAMPTZ) IS NULL OR coalesce(published_at, fetched_at) >= ?) "
        "AND (text IS NOT NULL OR text_source = 'feed') "
        "ORDER BY fetched_at, id",
        [since, since],
    ).fetchall()
    return [StoredArticle(*row) for row in rows]


def load_matches(
    con: duckdb.DuckDBPyConnection, since: datetime | None
) -> dict[str, dict[str, str]]:
    """Stored matches of the articles ``load_articles`` reads: watch -> article -> rule hash."""
    rows = con.execute(
        "SELECT m.watch_id, m.article_id, max(m.rule_hash) FROM matches m "
        "WHERE m.article_id IN (SELECT id FROM articles WHERE (CAST(? AS TIMESTAMPTZ) IS NULL "
        "OR coalesce(published_at, fetched_at) >= ?) "
        "AND (text IS NOT NULL OR text_source = 'feed')) "
        "GROUP BY m.watch_id, m.article_id",
        [since, since],
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for watch_id, article_id, rule_hash in rows:
        found.setdefault(watch_id, {})[article_id] = rule_hash
    return found


def replace_matches(
    con: duckdb.DuckDBPyConnection,
    watch_ids: Sequence[str],
    article_ids: Sequence[str],
    rows: Sequence[MatchRow],
    matched_at: datetime,
) -> int:
    """In one transaction, swap the matches of ``watch_ids`` on ``article_ids`` for ``rows``."""
    with transaction(con):
        con.execute("CREATE OR REPLACE TEMP TABLE rematch_scope (article_id VARCHAR)")
        # Lists go in as one LIST parameter each: far faster than executemany.
        con.execute("INSERT INTO rematch_scope SELECT unnest(?)", [list(article_ids)])
        con.execute(
            "DELETE FROM matches WHERE watch_id IN (SELECT unnest(?)) "
            "AND article_id IN (SELECT article_id FROM rematch_scope)",
            [list(watch_ids)],
        )
        if rows:
            con.execute(
                'INSERT INTO matches (article_id, watch_id, rule_hash, field, "start", "end", '
                "text, snippet, matched_at) SELECT unnest(?), unnest(?), unnest(?), unnest(?), "
                "unnest(?), unnest(?), unnest(?), unnest(?), ?",
                [
                    [row.article_id for row in rows],
                    [row.mention.watch_id for row in rows],
                    [row.rule_hash for row in rows],
                    [row.mention.field for row in rows],
                    [row.mention.start for row in rows],
                    [row.mention.end for row in rows],
                    [row.mention.text for row in rows],
                    [row.snippet for row in rows],
                    matched_at,
                ],
            )
        con.execute("DROP TABLE rematch_scope")
    return len(rows)
