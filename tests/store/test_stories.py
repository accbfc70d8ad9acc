"""Story signatures and identity keys in a real DuckDB file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsradar.dedup import SCHEME, StoryIndex, signature
from newsradar.identity import EntryKeys, KnownKeys, classify_entry, content_hash
from newsradar.store import open_reader, open_writer
from newsradar.store.schema import MIGRATIONS
from newsradar.store.stories import (
    known_articles,
    load_signatures,
    refresh_signatures,
    save_signatures,
    story_members,
)

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
TEXT = " ".join(f"word{i}" for i in range(80))


def insert_article(con, id_: str, feed: str, guid: str, url: str, title: str, text: str,  # type: ignore[no-untyped-def]
                   story: str, site: str | None = None, at: datetime = NOW) -> None:  # fmt: skip
    con.execute(
        "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, site_name,"
        " fetched_at, text_source, status, content_hash, story_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'page', 'ok', ?, ?)",
        [id_, feed, guid, url, url, title, text, site, at, content_hash(text), story],
    )


def test_migration_creates_the_table(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    with open_writer(db) as con:
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()
        cols = {r[0] for r in con.execute("DESCRIBE story_signatures").fetchall()}
    assert version == (MIGRATIONS[-1][0],)
    assert cols == {"article_id", "story_id", "signature", "shingles", "created_at", "scheme"}


def test_signatures_survive_a_reopen_and_rebuild_the_index(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    index = StoryIndex()
    index.assign("lead", TEXT)
    with open_writer(db) as con:
        con.execute("BEGIN TRANSACTION")
        save_signatures(con, index.take_new(), NOW)
        save_signatures(con, [], NOW)
        con.execute("COMMIT")
    with open_reader(db) as con:
        rows = load_signatures(con, since=NOW - timedelta(days=7))
        assert load_signatures(con, since=NOW + timedelta(seconds=1)) == []
    again = StoryIndex.load(rows)
    assert again.assign("copy", TEXT + " and one more closing sentence here") == ("lead", False)


def test_signatures_of_an_older_scheme_are_recomputed_from_the_bodies(tmp_path: Path) -> None:
    short = "too short to compare"
    with open_writer(tmp_path / "n.duckdb") as con:
        for id_, text, at in [
            ("a", TEXT, NOW),
            ("b", short, NOW),
            ("old", TEXT, NOW - timedelta(days=30)),
        ]:
            insert_article(con, id_, "f", id_, f"https://ex.org/{id_}", id_, text, id_, at=at)
            con.execute(
                "INSERT INTO story_signatures VALUES (?, ?, ?, 80, ?, 1)",
                [id_, id_, b"\0" * 512, at],
            )
        assert load_signatures(con, since=NOW - timedelta(days=7)) == []
        assert refresh_signatures(con, since=NOW - timedelta(days=7)) == 1
        assert refresh_signatures(con, since=NOW - timedelta(days=7)) == 0
        rows = load_signatures(con, since=NOW - timedelta(days=7))
        schemes = dict(con.execute("SELECT article_id, scheme FROM story_signatures").fetchall())
    expected = signature(TEXT)
    assert expected is not None
    assert [(r.article_id, r.signature, r.shingles) for r in rows] == [
        ("a", expected.to_bytes(), expected.size)
    ]
    # A body too short for a signature loses its row; one outside the window is left alone.
    assert schemes == {"a": SCHEME, "old": 1}


def test_saving_twice_is_harmless(tmp_path: Path) -> None:
    index = StoryIndex()
    index.assign("lead", TEXT)
    rows = index.take_new()
    with open_writer(tmp_path / "n.duckdb") as con:
        save_signatures(con, rows, NOW)
        save_signatures(con, rows, NOW)
        assert con.execute("SELECT count(*) FROM story_signatures").fetchone() == (1,)


def test_known_articles_feed_classify_entry(tmp_path: Path) -> None:
    with open_writer(tmp_path / "n.duckdb") as con:
        insert_article(con, "a1", "dw", "g1", "https://ex.org/a", "Title", TEXT, "a1")
        insert_article(con, "a2", "ap", "g9", "https://ap.org/b", "Wire", "wire body", "a2")
        entries = [
            EntryKeys("dw", "g1", "https://ex.org/a", "Title edited"),
            EntryKeys("rss", "zz", "https://ap.org/b", "Wire elsewhere"),
            EntryKeys("x", "new", "https://x.org/c", "Copy", content_hash(TEXT)),
            EntryKeys("dw", "g2", "https://ex.org/new", "Fresh"),
        ]
        known = KnownKeys.of(known_articles(con, entries))
        assert known_articles(con, []) == []
    verdicts = [classify_entry(e, known) for e in entries]
    assert [(v.kind, v.article_id, v.matched_on) for v in verdicts] == [
        ("update", "a1", "guid"),
        ("seen", "a2", "url"),
        ("seen", "a1", "content"),
        ("new", verdicts[3].article_id, None),
    ]


def test_story_members_lead_first(tmp_path: Path) -> None:
    with open_writer(tmp_path / "n.duckdb") as con:
        insert_article(con, "b", "f2", "g", "https://b.org/x", "T", TEXT, "a", "Valley Courier",
                       NOW - timedelta(hours=1))  # fmt: skip
        insert_article(con, "a", "f1", "g", "https://a.org/x", "T", TEXT, "a", "Daily Harbour")
        insert_article(con, "c", "f3", "g", "https://c.org/x", "T", TEXT, "a")
        assert story_members(con, "a") == [
            ("a", "Daily Harbour", "https://a.org/x"),
            ("b", "Valley Courier", "https://b.org/x"),
            ("c", "f3", "https://c.org/x"),
        ]
