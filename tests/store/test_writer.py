"""store.writer.write_batch: batched, atomic, and a re-run stores nothing twice."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from newsradar.alerts.outbox import AlertRow
from newsradar.models import Article, Mention
from newsradar.store import open_writer
from newsradar.store.writer import MatchRow, write_batch

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def article(i: int, **changes: object) -> Article:
    fields: dict[str, object] = dict(
        id=f"art-{i}",
        feed_id="f",
        guid=f"g{i}",
        url=f"https://x/{i}",
        canonical_url=f"https://x/{i}",
        title=f"NATO {i}",
        text="NATO meets in Brussels.",
        fetched_at=NOW,
        published_at=NOW - dt.timedelta(hours=i),
        content_hash=f"h{i}",
        story_id=f"art-{i}",
    )
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


def match(i: int, start: int = 0, watch: str = "nato", rule: str = "r1") -> MatchRow:
    return MatchRow(f"art-{i}", Mention(watch, "body", start, start + 4, "NATO"), rule, "NATO …")


def write(con: duckdb.DuckDBPyConnection, articles: list[Article], matches: list[MatchRow]) -> None:
    alerts = [AlertRow(f"al-{a.id}", "x@example.org", "nato", a.story_id, a.id, "match", NOW)
              for a in articles]  # fmt: skip
    write_batch(con, run_id="run", articles=articles, matches=matches, polls=[], alerts=alerts,
                events=[], now=NOW)  # fmt: skip


def table(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def test_rows_round_trip_with_their_types(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as con:
        write(con, [article(1, author="A. Writer", site_name=None)], [match(1), match(1, 10)])
        row = table(con, "SELECT id, author, site_name, published_at, run_id FROM articles")
        assert row == [("art-1", "A. Writer", None, NOW - dt.timedelta(hours=1), "run")]
        assert table(con, 'SELECT watch_id, "start", "end", text, matched_at FROM matches') == [
            ("nato", 0, 4, "NATO", NOW),
            ("nato", 10, 14, "NATO", NOW),
        ]


def test_a_rerun_stores_nothing_twice_but_adds_what_is_new(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as con:
        write(con, [article(1), article(2)], [match(1), match(2)])
        # The same batch again, plus a new article and a new mention of a stored article.
        write(con, [article(1), article(2), article(3)],
              [match(1), match(2), match(3), match(1, 10, "otan")])  # fmt: skip
        assert table(con, "SELECT count(*), count(DISTINCT id) FROM articles") == [(3, 3)]
        assert table(con, "SELECT article_id, watch_id FROM matches ORDER BY ALL") == [
            ("art-1", "nato"),
            ("art-1", "otan"),
            ("art-2", "nato"),
            ("art-3", "nato"),
        ]
        assert table(con, "SELECT count(*) FROM alerts") == [(3,)]


def test_a_batch_may_carry_the_same_row_twice(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as con:
        # Same key (article, watch, field, start) under another rule hash: the first wins.
        write(con, [article(1), article(1, title="other")],
              [match(1), match(1), match(1, rule="r2")])  # fmt: skip
        assert table(con, "SELECT title FROM articles") == [("NATO 1",)]
        assert table(con, "SELECT rule_hash FROM matches") == [("r1",)]


def test_a_failing_batch_leaves_nothing(tmp_path: Path) -> None:
    with open_writer(tmp_path / "w.duckdb") as con:
        write(con, [article(1)], [match(1)])
        bad = article(2, title=None)  # NOT NULL column
        with pytest.raises(duckdb.Error):
            write(con, [article(3), bad], [match(3)])
        assert table(con, "SELECT id FROM articles") == [("art-1",)]
        assert table(con, "SELECT count(*) FROM matches") == [(1,)]
        assert table(con, "SELECT count(*) FROM duckdb_tables() WHERE temporary") == [(0,)]
