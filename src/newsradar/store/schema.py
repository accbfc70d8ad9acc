"""Versioned schema migrations, applied in order at start-up.

Each migration is a list of statements and runs in its own transaction together with the
``schema_version`` row that records it, so a crash mid-migration leaves the previous version.
Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

import contextlib

import duckdb

from newsradar.errors import StoreError

__all__ = ["MIGRATIONS", "current_version", "latest_version", "migrate"]

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            """
            CREATE TABLE feeds (
                id                   VARCHAR PRIMARY KEY,  -- the feed's name in feeds.toml
                url                  VARCHAR NOT NULL,     -- URL polled (after permanent redirects)
                configured_url       VARCHAR NOT NULL,     -- URL as written in feeds.toml
                title                VARCHAR,
                etag                 VARCHAR,
                last_modified        VARCHAR,
                body_hash            VARCHAR,
                last_attempt_at      TIMESTAMPTZ,
                last_success_at      TIMESTAMPTZ,
                last_new_item_at     TIMESTAMPTZ,
                http_status          INTEGER,
                error_class          VARCHAR,
                error_message        VARCHAR,
                consecutive_failures INTEGER NOT NULL DEFAULT 0,
                next_poll_at         TIMESTAMPTZ,
                poll_interval_s      DOUBLE,
                redirect_candidate   VARCHAR
            )
            """,
            """
            CREATE TABLE articles (
                id            VARCHAR PRIMARY KEY,
                feed_id       VARCHAR NOT NULL,
                guid          VARCHAR NOT NULL,
                url           VARCHAR NOT NULL,
                canonical_url VARCHAR NOT NULL,
                title         VARCHAR NOT NULL,
                summary       VARCHAR,
                text          VARCHAR,
                author        VARCHAR,
                language      VARCHAR,
                site_name     VARCHAR,
                published_at  TIMESTAMPTZ,
                updated_at    TIMESTAMPTZ,
                date_source   VARCHAR,
                fetched_at    TIMESTAMPTZ NOT NULL,
                text_source   VARCHAR NOT NULL,
                status        VARCHAR NOT NULL,
                reason        VARCHAR,
                content_hash  VARCHAR NOT NULL,
                story_id      VARCHAR NOT NULL,
                run_id        VARCHAR
            )
            """,
            "CREATE INDEX articles_canonical_url ON articles (canonical_url)",
            "CREATE INDEX articles_content_hash ON articles (content_hash)",
            "CREATE INDEX articles_feed_guid ON articles (feed_id, guid)",
            """
            CREATE TABLE watches (
                id         VARCHAR PRIMARY KEY,
                name       VARCHAR NOT NULL,
                rule_hash  VARCHAR NOT NULL,  -- hash of the watch definition
                definition VARCHAR NOT NULL,  -- the watch as TOML-ish text, for reference
                updated_at TIMESTAMPTZ NOT NULL
            )
            """,
            """
            CREATE TABLE matches (
                article_id VARCHAR NOT NULL,
                watch_id   VARCHAR NOT NULL,
                rule_hash  VARCHAR NOT NULL,
                field      VARCHAR NOT NULL,   -- title | body | summary
                "start"    INTEGER NOT NULL,   -- Python str offset into the original field text
                "end"      INTEGER NOT NULL,
                text       VARCHAR NOT NULL,   -- the matched slice
                snippet    VARCHAR NOT NULL,   -- context around the mention
                matched_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (article_id, watch_id, field, "start")
            )
            """,
            """
            CREATE TABLE alerts (
                id          VARCHAR PRIMARY KEY,  -- also the stable Message-ID's left part
                recipient   VARCHAR NOT NULL,
                watch_id    VARCHAR NOT NULL,
                story_id    VARCHAR NOT NULL,
                article_id  VARCHAR NOT NULL,
                kind        VARCHAR NOT NULL DEFAULT 'match',  -- match | update | spike
                status      VARCHAR NOT NULL DEFAULT 'pending', -- pending|retrying|sent|failed
                attempts    INTEGER NOT NULL DEFAULT 0,
                created_at  TIMESTAMPTZ NOT NULL,
                due_at      TIMESTAMPTZ,
                sent_at     TIMESTAMPTZ,
                last_error  VARCHAR,
                digest_id   VARCHAR,              -- the mail it went out in
                UNIQUE (recipient, watch_id, story_id, kind)
            )
            """,
            """
            CREATE TABLE runs (
                id             VARCHAR PRIMARY KEY,
                started_at     TIMESTAMPTZ NOT NULL,
                finished_at    TIMESTAMPTZ,
                status         VARCHAR NOT NULL,  -- running | completed | failed | locked
                feeds_total    INTEGER,
                feeds_ok       INTEGER,
                feeds_failed   INTEGER,
                feeds_skipped  INTEGER,
                entries_new    INTEGER,
                articles_stored INTEGER,
                matches_stored INTEGER,
                alerts_queued  INTEGER,
                alerts_sent    INTEGER,
                alerts_failed  INTEGER,
                errors         INTEGER,
                fetch_s        DOUBLE,
                extract_s      DOUBLE,
                match_s        DOUBLE,
                store_s        DOUBLE,
                deliver_s      DOUBLE,
                message        VARCHAR
            )
            """,
            """
            CREATE TABLE events (
                run_id   VARCHAR,
                logged_at TIMESTAMPTZ NOT NULL,
                stage    VARCHAR NOT NULL,   -- fetch | parse | extract | store | deliver
                subject  VARCHAR NOT NULL,   -- feed id, URL or alert id
                kind     VARCHAR NOT NULL,   -- error class or skip reason
                message  VARCHAR NOT NULL
            )
            """,
            """
            CREATE TABLE hosts (
                host          VARCHAR PRIMARY KEY,
                blocked_until TIMESTAMPTZ,     -- honour Retry-After host-wide, across runs
                reason        VARCHAR
            )
            """,
        ],
    ),
    (
        2,
        "feed cadence",
        [
            # Median gap between a feed's entries (s): the learned poll interval and the
            # "silent" flag are derived from it.
            "ALTER TABLE feeds ADD COLUMN cadence_s DOUBLE",
        ],
    ),
    (
        3,
        "story signatures for near-duplicate clustering",
        [
            """
            CREATE TABLE story_signatures (
                article_id VARCHAR PRIMARY KEY,  -- articles.id
                story_id   VARCHAR NOT NULL,     -- articles.story_id: the story lead's id
                signature  BLOB NOT NULL,        -- 64 little-endian uint64 MinHash values
                shingles   INTEGER NOT NULL,     -- distinct word 5-grams in the body
                created_at TIMESTAMPTZ NOT NULL
            )
            """,
            "CREATE INDEX articles_story_id ON articles (story_id)",
        ],
    ),
    (
        4,
        "views mentions and daily_counts",
        [
            # One row per mention with the joins analysts write most: the article, its outlet
            # and the watch. `time` is when the story appeared (published, else fetched).
            """
            CREATE VIEW mentions AS
            SELECT
                m.article_id,
                a.title,
                a.url,
                coalesce(nullif(a.site_name, ''), f.title, a.feed_id) AS outlet,
                a.feed_id,
                a.story_id,
                m.watch_id,
                coalesce(w.name, m.watch_id) AS watch,
                m.field,
                m.text,
                m.snippet,
                m."start",
                m."end",
                m.rule_hash,
                coalesce(a.published_at, a.fetched_at) AS "time",
                m.matched_at
            FROM matches AS m
            JOIN articles AS a ON a.id = m.article_id
            LEFT JOIN feeds AS f ON f.id = a.feed_id
            LEFT JOIN watches AS w ON w.id = m.watch_id
            """,
            # Days are UTC days whatever the session's TimeZone: epoch microseconds to a naive
            # UTC timestamp, then to a date.
            """
            CREATE VIEW daily_counts AS
            SELECT
                CAST(make_timestamp(epoch_us(coalesce(a.published_at, a.fetched_at))) AS DATE)
                    AS day,
                m.watch_id,
                count(*) AS mentions,
                count(DISTINCT m.article_id) AS articles,
                count(DISTINCT a.story_id) AS stories
            FROM matches AS m
            JOIN articles AS a ON a.id = m.article_id
            GROUP BY ALL
            """,
        ],
    ),
    (
        5,
        "story signature hashing scheme",
        [
            # Signatures of scheme 1 (blake2b per shingle) are recomputed from the stored
            # bodies by store.stories.refresh_signatures; new rows carry dedup.SCHEME.
            "ALTER TABLE story_signatures ADD COLUMN scheme SMALLINT DEFAULT 1",
        ],
    ),
    (
        6,
        "feeds removed from feeds.toml",
        [
            # Set by sync_feeds when a feed leaves feeds.toml (its row and history stay),
            # cleared when it comes back; health reports skip removed feeds.
            "ALTER TABLE feeds ADD COLUMN removed_at TIMESTAMPTZ",
        ],
    ),
]


def latest_version() -> int:
    """The schema version this newsradar migrates to."""
    return max(number for number, _, _ in MIGRATIONS)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration newer than the database; return the resulting version."""
    version = current_version(con)
    latest = latest_version()
    if version > latest:
        # An older newsradar must not write into a schema it does not know.
        raise StoreError(
            f"database schema version {version} is newer than this newsradar knows "
            f"(up to {latest}); upgrade newsradar before using this database"
        )
    for number, description, statements in MIGRATIONS:
        if number <= version:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                con.execute(statement)
            con.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                [number, description],
            )
            con.execute("COMMIT")
        except BaseException:
            # A failed COMMIT has ended the transaction already: keep its error, not ours.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        version = number
    return version
