"""The rematch SQL: scoped reads and an all-or-nothing replacement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from newsradar.models import Mention
from newsradar.store import open_writer
from newsradar.store.rematch import load_articles, load_matches, replace_matches
from newsradar.store.writer import MatchRow

NOW = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_writer(tmp_path / "db.duckdb") as connection:
        for article_id, published, text in [
            ("old", datetime(2025, 1, 1, tzinfo=UTC), None),
            ("new", None, "NATO body"),
        ]:
            connection.execute(
                "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, summary,"
                " text, published_at, fetched_at, text_source, status, content_hash, story_id)"
                " VALUES (?, 'f', ?, 'u', 'u', 'T', 'summary', ?, ?, ?, 'page', 'ok', ?, ?)",
                [article_id, article_id, text, published, NOW, article_id, article_id],
            )
        connection.execute(
            "INSERT INTO matches VALUES ('old', 'nato', 'h0', 'body', 0, 4, 'NATO', 's', ?),"
            " ('new', 'nato', 'h0', 'body', 0, 4, 'NATO', 's', ?)",
            [NOW, NOW],
        )
        yield connection


def all_matches(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute("SELECT article_id, rule_hash FROM matches ORDER BY article_id").fetchall()
    return [(a, h) for a, h in rows]


def test_since_uses_published_then_fetched_date(con: duckdb.DuckDBPyConnection) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert [(a.id, a.text) for a in load_articles(con, since)] == [("new", "NATO body")]
    assert [(a.id, a.text) for a in load_articles(con, None)][0] == ("new", "NATO body")
    # "old" had its page body pruned by retention: out of scope, its matches stay.
    assert [a.id for a in load_articles(con, None)] == ["new"]
    assert load_matches(con, since) == {"nato": {"new": "h0"}}


def test_replace_touches_only_the_scope(con: duckdb.DuckDBPyConnection) -> None:
    row = MatchRow("new", Mention("nato", "title", 0, 1, "T"), "h1", "T")
    assert replace_matches(con, ["nato"], ["new"], [row], NOW) == 1
    assert all_matches(con) == [("new", "h1"), ("old", "h0")]


def test_replace_is_all_or_nothing(con: duckdb.DuckDBPyConnection) -> None:
    clash = MatchRow("new", Mention("nato", "body", 0, 4, "NATO"), "h1", "s")
    with pytest.raises(duckdb.ConstraintException):
        replace_matches(con, ["nato"], ["new"], [clash, clash], NOW)
    assert all_matches(con) == [("new", "h0"), ("old", "h0")]
