"""A small, hand-made database: a story seen by two outlets, a silent feed, an old article.

Times are relative to ``now`` so queries that look at "the last 30 days" find rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from newsradar.store import open_writer

WATCHES = [("nato", "NATO"), ("north-korea", "North Korea"), ("arms-transfers", None)]
# id, title, url, last_new_item_at (days ago, None = never), error_class
FEEDS = [
    ("reuters-asia", "Reuters Asia", "http://127.0.0.1:1/reuters.xml", 0, None),
    ("dw-asia", "DW Asia", "http://127.0.0.1:1/dw.xml", 0, None),
    ("yonhap", "Yonhap", "http://127.0.0.1:1/yonhap.xml", 20, None),
    ("kcna-watch", None, "http://127.0.0.1:1/kcna.xml", None, "http_5xx"),
]
# id, feed, story, site_name, title, published (days ago), fetched (days ago)
ARTICLES = [
    ("a1", "reuters-asia", "a1", "Reuters", "NATO chief warns of North Korea arms transfers", 1, 1),
    ("a2", "dw-asia", "a1", None, "Stoltenberg in Seoul: NATO and North Korea", 1, 1),
    ("a3", "dw-asia", "a3", "DW", "NATO summit agenda", 0, 0),
    ("a4", "yonhap", "a4", "Yonhap", "North Korea fires missile", 20, 20),
    ("a5", "reuters-asia", "a5", "Reuters", "NATO and the Baltic states", None, 400),
]
# article, watch, field, text
MATCHES = [
    ("a1", "nato", "title", "NATO"),
    ("a1", "north-korea", "title", "North Korea"),
    ("a1", "arms-transfers", "body", "arms transfers"),
    ("a2", "nato", "title", "NATO"),
    ("a2", "north-korea", "body", "North Korea"),
    ("a3", "nato", "title", "NATO"),
    ("a3", "nato", "body", "NATO"),
    ("a4", "north-korea", "title", "North Korea"),
    ("a5", "nato", "title", "NATO"),
]


def body(title: str) -> str:
    return f"{title}. The body of the article repeats it: {title}."


def populate(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> None:
    """Insert the sample rows through an open write connection (schema migrated)."""
    now = now or dt.datetime.now(dt.UTC)

    def ago(days: int | None) -> dt.datetime | None:
        return None if days is None else now - dt.timedelta(days=days, hours=1)

    con.executemany(
        "INSERT INTO watches VALUES (?, ?, ?, ?, ?)",
        [(w, name or w, f"hash-{w}", f"terms = [{w!r}]", now) for w, name in WATCHES],
    )
    con.executemany(
        "INSERT INTO feeds (id, url, configured_url, title, last_attempt_at, last_success_at,"
        " last_new_item_at, error_class, consecutive_failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (fid, url, url, title, now, None if err else now, ago(days), err, 3 if err else 0)
            for fid, title, url, days, err in FEEDS
        ],
    )
    con.executemany(
        "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, summary, text,"
        " site_name, published_at, fetched_at, text_source, status, content_hash, story_id,"
        " run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'page', 'ok', ?, ?, 'run-2')",
        [
            (
                aid,
                feed,
                aid,
                f"https://example.org/{aid}",
                f"https://example.org/{aid}",
                title,
                title,
                body(title),
                site,
                ago(pub),
                ago(fetched),
                f"hash-{aid}",
                story,
            )
            for aid, feed, story, site, title, pub, fetched in ARTICLES
        ],
    )
    titles = {a[0]: a[4] for a in ARTICLES}
    rows = []
    for aid, watch, field, text in MATCHES:
        source = titles[aid] if field == "title" else body(titles[aid])
        start = source.index(text)
        rows.append(
            (aid, watch, f"hash-{watch}", field, start, start + len(text), text, source[:80], now)
        )
    con.executemany("INSERT INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany(
        "INSERT INTO runs (id, started_at, finished_at, status, feeds_ok, feeds_failed,"
        " articles_stored) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("run-1", ago(2), ago(2), "completed", 3, 1, 1),
            ("run-2", ago(0), now, "completed", 3, 1, 4),
        ],
    )
    con.execute(
        "INSERT INTO events VALUES ('run-2', ?, 'fetch', 'kcna-watch', 'http_5xx', '503')", [now]
    )
    con.executemany(
        "INSERT INTO alerts (id, recipient, watch_id, story_id, article_id, status, created_at,"
        " due_at) VALUES (?, 'analyst@example.org', ?, ?, ?, ?, ?, ?)",
        [
            ("al-1", "nato", "a1", "a1", "sent", ago(1), ago(1)),
            ("al-2", "nato", "a3", "a3", "pending", now, now),
        ],
    )


def sample_db(path: Path, now: dt.datetime | None = None) -> Path:
    """Create (or extend) the database at ``path`` with the sample rows."""
    with open_writer(path, lock_timeout=5) as con:
        populate(con, now)
    return path
