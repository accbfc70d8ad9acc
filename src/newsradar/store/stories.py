"""Identity keys and story signatures in DuckDB: what dedup and identity need from the past.

known = KnownKeys.of(known_articles(con, keys))          # identity.classify_entry
refresh_signatures(con, since=now - timedelta(days=7))       # once after an upgrade
index = StoryIndex.load(load_signatures(con, since=now - timedelta(days=7)))
index.add_copies(load_copy_keys(con, since=now - timedelta(days=7)))
...
save_signatures(con, index.take_new(), now)              # inside the batch transaction
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from newsradar.dedup import SCHEME, SignatureRow, signature
from newsradar.identity import EMPTY_HASH, EntryKeys, KnownArticle, copy_key
from newsradar.models import Article
from newsradar.store.bulk import insert_new
from newsradar.store.connection import transaction

__all__ = [
    "known_articles",
    "load_copy_keys",
    "load_signatures",
    "previous_watches",
    "refresh_signatures",
    "save_signatures",
    "story_members",
    "update_articles",
]


def load_signatures(con: duckdb.DuckDBPyConnection, *, since: datetime) -> list[SignatureRow]:
    """Signatures stored since ``since``, oldest first (so earlier leads win ties)."""
    rows = con.execute(
        "SELECT article_id, story_id, signature, shingles FROM story_signatures"
        " WHERE created_at >= ? AND scheme = ? ORDER BY created_at, article_id",
        [since, SCHEME],
    ).fetchall()
    return [SignatureRow(a, s, bytes(sig), n) for a, s, sig, n in rows]


def load_copy_keys(con: duckdb.DuckDBPyConnection, *, since: datetime) -> list[tuple[str, str]]:
    """(exact-copy key, story id) of the articles fetched since ``since``, oldest first."""
    rows = con.execute(
        "SELECT title, content_hash, story_id FROM articles"
        " WHERE fetched_at >= ? AND content_hash <> ? ORDER BY fetched_at, id",
        [since, EMPTY_HASH],
    ).fetchall()
    keys = ((copy_key(title or "", body_hash), story) for title, body_hash, story in rows)
    return [(key, story) for key, story in keys if key]


def refresh_signatures(con: duckdb.DuckDBPyConnection, *, since: datetime) -> int:
    """Recompute, from the stored bodies, signatures that an older newsradar hashed differently
    (their values would never meet new ones); return how many were stored again."""
    rows = con.execute(
        "SELECT s.article_id, a.text FROM story_signatures AS s JOIN articles AS a"
        " ON a.id = s.article_id WHERE s.scheme <> ? AND s.created_at >= ?",
        [SCHEME, since],
    ).fetchall()
    if not rows:
        return 0
    fresh = [(article_id, signature(text or "")) for article_id, text in rows]
    kept = [(a, sig) for a, sig in fresh if sig is not None]
    with transaction(con):
        con.execute(
            "UPDATE story_signatures SET signature = u.signature, shingles = u.shingles,"
            " scheme = ? FROM (SELECT unnest(?::VARCHAR[]) AS id, unnest(?::BLOB[]) AS signature,"
            " unnest(?::INTEGER[]) AS shingles) AS u WHERE story_signatures.article_id = u.id",
            [
                SCHEME,
                [a for a, _ in kept],
                [s.to_bytes() for _, s in kept],
                [s.size for _, s in kept],
            ],
        )
        con.execute(
            "DELETE FROM story_signatures WHERE article_id IN (SELECT unnest(?::VARCHAR[]))",
            [[a for a, sig in fresh if sig is None]],
        )
    return len(kept)


def save_signatures(
    con: duckdb.DuckDBPyConnection, rows: Sequence[SignatureRow], now: datetime
) -> None:
    """Insert signatures; runs inside the caller's transaction (the batch's)."""
    if rows:
        insert_new(
            con,
            "story_signatures",
            ("article_id", "story_id", "signature", "shingles", "created_at", "scheme"),
            [(r.article_id, r.story_id, r.signature, r.shingles, now, SCHEME) for r in rows],
        )


def known_articles(
    con: duckdb.DuckDBPyConnection, entries: Sequence[EntryKeys]
) -> list[KnownArticle]:
    """Stored articles sharing a guid (same feed), canonical URL, link or content hash with any
    entry (a stored canonical URL can be the page's rel=canonical, not the feed's link)."""
    if not entries:
        return []
    guids = sorted({f"{e.feed_id}\x1f{e.guid}" for e in entries})
    urls = sorted({e.canonical_url for e in entries if e.canonical_url})
    links = sorted({e.url for e in entries if e.url})
    hashes = sorted(
        {e.content_hash for e in entries if e.content_hash and e.content_hash != EMPTY_HASH}
    )
    rows = con.execute(
        """
        SELECT id, feed_id, guid, canonical_url, title, content_hash, story_id, updated_at,
               status, url
        FROM articles
        WHERE feed_id || chr(31) || guid IN (SELECT unnest(?::VARCHAR[]))
           OR canonical_url IN (SELECT unnest(?::VARCHAR[]))
           OR url IN (SELECT unnest(?::VARCHAR[]))
           OR content_hash IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY fetched_at, id
        """,
        [guids, urls, links, hashes],
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


def previous_watches(
    con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]
) -> dict[str, set[str]]:
    """The watches that have matched each stored article's story so far (any of its copies).

    An update alerts only for watches new to the story: the analyst who was told about the
    story for a watch through its lead is not told again when a copy is edited to say the same.
    """
    found: dict[str, set[str]] = {a: set() for a in article_ids}
    if article_ids:
        rows = con.execute(
            "SELECT DISTINCT u.id, m.watch_id FROM articles AS u"
            " JOIN articles AS copy ON copy.story_id = u.story_id"
            " JOIN matches AS m ON m.article_id = copy.id"
            " WHERE u.id IN (SELECT unnest(?::VARCHAR[]))",
            [list(article_ids)],
        ).fetchall()
        for article_id, watch_id in rows:
            found[article_id].add(watch_id)
    return found


def update_articles(
    con: duckdb.DuckDBPyConnection, articles: Sequence[Article], run_id: str
) -> None:
    """Replace stored articles' content (an edited headline or text) and drop their matches.

    The old matches point into the old text; the caller inserts the new ones in the same
    transaction. Identity (id, feed, guid) and the story stay.
    """
    for a in articles:
        con.execute(
            "UPDATE articles SET url = ?, canonical_url = ?, title = ?, summary = ?, text = ?,"
            " author = ?, language = ?, site_name = ?, published_at = ?, updated_at = ?,"
            " date_source = ?, fetched_at = ?, text_source = ?, status = ?, reason = ?,"
            " content_hash = ?, run_id = ? WHERE id = ?",
            [
                a.url, a.canonical_url, a.title, a.summary, a.text, a.author, a.language,
                a.site_name, a.published_at, a.updated_at, a.date_source, a.fetched_at,
                a.text_source, a.status, a.reason, a.content_hash, run_id, a.id,
            ],
        )  # fmt: skip
    if articles:
        con.execute(
            "DELETE FROM matches WHERE article_id IN (SELECT unnest(?::VARCHAR[]))",
            [[a.id for a in articles]],
        )
