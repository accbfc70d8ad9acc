from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from newsradar.store import open_reader, open_writer
from newsradar.store.alerts import AlertRow, queue_alerts
from newsradar.store.trends import (
    co_mentions,
    daily_story_counts,
    latest_stories,
    observed_since,
    top_outlets,
)
from tests.trends_data import Planted, build_trends_db

LAST = date(2026, 11, 28)
WATCHES = ["nato", "dprk", "arms"]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    path = tmp_path_factory.mktemp("trends") / "planted.duckdb"
    return build_trends_db(path, last_day=LAST, spike_day=LAST - timedelta(days=8))


@pytest.fixture
def con(planted: Planted) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_reader(planted.path, lock_timeout=5) as con:
        yield con


def test_counts_stories_not_copies(planted: Planted, con: duckdb.DuckDBPyConnection) -> None:
    counts = daily_story_counts(con, WATCHES, planted.first_day, planted.last_day)
    expected: dict[str, dict[date, int]] = {w: {} for w in WATCHES}
    for (watch, day), n in planted.stories.items():
        expected[watch][day] = n
    assert counts == expected
    stories = sum(expected["nato"].values())
    assert planted.articles > stories * 1.5  # the copies exist, and did not count
    assert counts["nato"][LAST - timedelta(days=8)] == 25


def test_counts_are_limited_to_the_period_and_watches(
    planted: Planted, con: duckdb.DuckDBPyConnection
) -> None:
    week = daily_story_counts(con, ["arms", "nobody"], LAST - timedelta(days=6), LAST)
    assert set(week) == {"arms", "nobody"} and week["nobody"] == {}
    assert all(LAST - timedelta(days=6) <= day <= LAST for day in week["arms"])


def test_observed_since(planted: Planted, con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    assert observed_since(con) == planted.first_day
    with open_writer(tmp_path / "empty.duckdb", lock_timeout=5):
        pass
    with open_reader(tmp_path / "empty.duckdb", lock_timeout=5) as empty:
        assert observed_since(empty) is None
        assert daily_story_counts(empty, ["nato"], LAST, LAST) == {"nato": {}}
        assert co_mentions(empty, ["nato"], LAST, LAST) == {}


def test_top_outlets_ranked_and_limited(planted: Planted, con: duckdb.DuckDBPyConnection) -> None:
    outlets = top_outlets(con, WATCHES, planted.first_day, planted.last_day, limit=3)
    assert len(outlets["nato"]) == 3
    counts = [n for _, n in outlets["nato"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    assert outlets["arms"] and all(n >= 1 for _, n in outlets["arms"])


def test_latest_stories_newest_first_with_snippets(
    planted: Planted, con: duckdb.DuckDBPyConnection
) -> None:
    latest = latest_stories(con, ["nato", "dprk"], planted.first_day, planted.last_day, limit=4)
    nato = latest["nato"]
    assert len(nato) == 4
    assert [s.first_seen for s in nato] == sorted((s.first_seen for s in nato), reverse=True)
    assert len({s.story_id for s in nato}) == 4  # one line per story, not per copy
    assert all(s.text == "NATO" and s.copies >= 1 for s in nato)
    assert all(s.story_id in {x.story_id for x in latest["nato"]} for s in latest["dprk"][:1])


def test_co_mentions_symmetric_with_totals_on_the_diagonal(
    planted: Planted, con: duckdb.DuckDBPyConnection
) -> None:
    table = co_mentions(con, WATCHES, planted.first_day, planted.last_day)
    totals = {w: sum(n for (x, _), n in planted.stories.items() if x == w) for w in WATCHES}
    for watch in WATCHES:
        assert table[(watch, watch)] == totals[watch]
    # Every dprk and arms story in the fixture is also a nato story.
    assert table[("nato", "dprk")] == table[("dprk", "nato")] == totals["dprk"]
    assert table[("arms", "nato")] == totals["arms"]
    assert ("arms", "dprk") not in table


def _article(
    con: duckdb.DuckDBPyConnection,
    article_id: str,
    story: str,
    *,
    published: datetime | None,
    fetched: datetime,
    site: str | None = None,
    feed: str = "f1",
    matches: tuple[tuple[str, str, str, str], ...] = (),
) -> None:
    con.execute(
        """
        INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, site_name,
                              published_at, fetched_at, text_source, status, content_hash,
                              story_id)
        VALUES ($1, $2, $1, 'https://x.example/' || $1, 'https://x.example/' || $1, 'T ' || $1,
                $3, $4, $5, 'page', 'ok', $1, $6)
        """,
        [article_id, feed, site, published, fetched, story],
    )
    for i, (watch, field, text, snippet) in enumerate(matches):
        con.execute(
            "INSERT INTO matches VALUES (?, ?, 'h', ?, ?, ?, ?, ?, ?)",
            [article_id, watch, field, i, i + len(text), text, snippet, fetched],
        )


def test_story_day_rules(tmp_path: Path) -> None:
    path = tmp_path / "days.duckdb"
    t = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
    with open_writer(path, lock_timeout=5) as con:
        con.execute(
            "INSERT INTO feeds (id, url, configured_url, title) VALUES"
            " ('f1', 'https://f1.example/', 'https://f1.example/', 'Feed One'),"
            " ('f2', 'https://f2.example/', 'https://f2.example/', NULL)"
        )
        hit = (("nato", "body", "NATO", "the NATO body"),)
        # Late evening UTC is the next morning in Tokyo.
        _article(con, "a1", "s1", published=t, fetched=t, site="Site A", matches=hit)
        # A copy a day later is the same story, still on its first day.
        _article(con, "a2", "s1", published=t + timedelta(days=1), fetched=t + timedelta(days=1),
                 site="Site B", matches=hit)  # fmt: skip
        # A publish date in the future counts on the day it was fetched.
        _article(con, "a3", "s3", published=t + timedelta(days=30), fetched=t - timedelta(hours=20),
                 site="", matches=(("nato", "title", "NATO", "NATO title"), *hit))  # fmt: skip
        # No site name, no feed title: the feed id names the outlet.
        _article(con, "a4", "s4", published=None, fetched=t, feed="f2", matches=hit)
    day = date(2026, 11, 10)
    with open_reader(path, lock_timeout=5) as con:
        utc = daily_story_counts(con, ["nato"], day - timedelta(days=5), day + timedelta(days=5))
        assert utc == {"nato": {day: 3}}
        tokyo = daily_story_counts(
            con, ["nato"], day - timedelta(days=5), day + timedelta(days=5), "Asia/Tokyo"
        )
        assert tokyo == {"nato": {day: 1, day + timedelta(days=1): 2}}
        assert observed_since(con, "Asia/Tokyo") == day
        outlets = dict(top_outlets(con, ["nato"], day, day)["nato"])
        assert outlets == {"Site A": 1, "Site B": 1, "Feed One": 1, "f2": 1}
        stories = {s.story_id: s for s in latest_stories(con, ["nato"], day, day)["nato"]}
        assert stories["s1"].outlet == "Site A" and stories["s1"].copies == 2
        assert stories["s3"].snippet == "the NATO body"  # the body's context beats the title


def test_a_spike_row_fits_the_outbox_once(tmp_path: Path) -> None:
    now = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    row = AlertRow(
        id="a1",
        recipient="analyst@example.org",
        watch_id="nato",
        story_id="spike:nato:2026-11-28",
        article_id="spike:nato:2026-11-28",
        kind="spike",
        created_at=now,
    )
    with open_writer(tmp_path / "alerts.duckdb", lock_timeout=5) as con:
        assert queue_alerts(con, [row]) == 1
        assert queue_alerts(con, [row]) == 0
        # Same (recipient, watch, story, kind) under another id: UNIQUE still holds.
        assert queue_alerts(con, [replace(row, id="a2")]) == 0
        rows = con.execute("SELECT id, kind, status, due_at FROM alerts").fetchall()
    assert rows == [("a1", "spike", "pending", now)]
