"""Identity keys and story signatures in DuckDB: what dedup and identity need from the past.

known = KnownKeys.of(known_articles(con, keys))          # identity.classify_entry
index = StoryIndex.load(load_signatures(con, since=now - timedelta(days=7)))
...
save_signatures(con, index.take_new(), now)              # inside the batch transaction
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from newsradar.dedup import SignatureRow
from newsradar.identity import EMPTY_HASH, EntryKeys, KnownArticle

__all__ = ["known_articles", "load_signatures", "save_signatures", "story_members"]


def load_signatures(con: duckdb.DuckDBPyConnection, *, since: datetime) -> list[SignatureRow]:
    """Signatures stored since ``since``, oldest first (so earlier leads win ties)."""
    rows = con.execute(
        "SELECT article_id, story_id, signature, shingles FROM story_signatures"
        " WHERE created_at >= ? ORDER BY created_at, article_id",
        [since],
    ).fetchall()
    return [SignatureRow(a, s, bytes(sig), n) for a, s, sig, n in rows]


def save_signatures(
    con: duckdb.DuckDBPyConnection, rows: Sequence[SignatureRow], now: datetime
) -> None:
    """Insert signatures; runs inside the caller's transaction (the batch's)."""
    if rows:
        con.executemany(
            "INSERT INTO story_signatures (article_id, story_id, signature, shingles, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (article_id) DO NOTHING",
            [[r.article_id, r.story_id, r.signature, r.shingles, now] for r in rows],
        )


def known_articles(
    con: duckdb.DuckDBPyConnection, entries: Sequence[EntryKeys]
) -> list[KnownArticle]:
    """Stored articles sharing a guid (same feed), canonical URL or content hash with any entry."""
    if not entries:
        return []
    guids = sorted({f"{e.feed_id}\x1f{e.guid}" for e in entries})
    urls = sorted({e.canonical_url for e in entries if e.canonical_url})
    hashes = sorted(
        {e.content_hash for e in entries if e.content_hash and e.content_hash != EMPTY_HASH}
    )
    rows = con.execute(
        """
        SELECT id, feed_id, guid, canonical_url, title, content_hash FROM articles
        WHERE feed_id || chr(31) || guid IN (SELECT unnest(?::VARCHAR[]))
           OR canonical_url IN (SELECT unnest(?::VARCHAR[]))
           OR content_hash IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY fetched_at, id
        """,
        [guids, urls, hashes],
    ).fetchall()
    return [KnownArticle(*row) for row in rows]


def story_members(con: duckdb.DuckDBPyConnection, story_id: str) -> list[tuple[str, str, str]]:
    """(article id, site name or feed id, url) of every article of a story, lead first."""
    rows = con.execute(
        "SELECT id, coalesce(site_name, feed_id), url FROM articles WHERE story_id = ?"
        " ORDER BY (id <> story_id), fetched_at, id",
        [story_id],
    ).fetchall()
    return [(a, s, u) for a, s, u in rows]
