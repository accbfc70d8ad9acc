"""Feed state and health in a real DuckDB file: failures, recovery, redirects, host blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from newsradar.config import FeedConfig, FetchSettings
from newsradar.models import FeedPoll
from newsradar.store import open_writer
from newsradar.store.feeds import (
    load_feed_rows,
    load_feed_states,
    load_host_blocks,
    save_host_blocks,
    save_polls,
    sync_feeds,
)

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
S = FetchSettings(min_poll_interval=300, max_poll_interval=86_400)
FEED = FeedConfig(name="f", url="https://x.org/feed")


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "n.duckdb"
    with open_writer(path) as con:
        sync_feeds(con, [FEED], NOW)
    return path


def _save(path: Path, *polls: FeedPoll) -> None:
    with open_writer(path) as con:
        save_polls(con, polls, S)


def test_503_five_times_then_200_backs_off_and_resets(tmp_path: Path) -> None:
    path = _db(tmp_path)
    for n in range(5):
        at = NOW + timedelta(hours=n)
        _save(path, FeedPoll("f", at, "failed", 503, error_class="http_5xx", error_message="503"))
    with open_writer(path) as con:
        (bad,) = load_feed_rows(con)
        state = load_feed_states(con, NOW)["f"]
    assert (bad.consecutive_failures, bad.error_class, bad.http_status) == (5, "http_5xx", 503)
    assert state.next_poll_at is not None
    assert state.next_poll_at - (NOW + timedelta(hours=4)) == timedelta(seconds=300 * 16)
    _save(path, FeedPoll("f", NOW + timedelta(days=1), "ok", 200, '"e1"', None, "h1", "T",
                         new_items=2))  # fmt: skip
    with open_writer(path) as con:
        (good,) = load_feed_rows(con)
        state = load_feed_states(con, NOW)["f"]
    assert (good.consecutive_failures, good.error_class, good.error_message) == (0, None, None)
    assert good.last_success_at == good.last_new_item_at == NOW + timedelta(days=1)
    assert (state.etag, state.body_hash) == ('"e1"', "h1")


def test_validators_survive_failures_and_304s(tmp_path: Path) -> None:
    path = _db(tmp_path)
    _save(path, FeedPoll("f", NOW, "ok", 200, 'W/"a b"', "Sat, 28 Nov 2026 10:00:00 GMT", "h"))
    _save(path, FeedPoll("f", NOW, "failed", None, error_class="timeout", error_message="t"))
    _save(path, FeedPoll("f", NOW, "not_modified", 304))
    with open_writer(path) as con:
        state = load_feed_states(con, NOW)["f"]
    assert (state.etag, state.last_modified, state.body_hash) == (
        'W/"a b"', "Sat, 28 Nov 2026 10:00:00 GMT", "h")  # fmt: skip


def test_stored_url_follows_two_consecutive_permanent_redirects(tmp_path: Path) -> None:
    path = _db(tmp_path)
    moved = FeedPoll("f", NOW, "ok", 200, redirect_to="https://x.org/new")
    _save(path, moved)
    with open_writer(path) as con:
        state = load_feed_states(con, NOW)["f"]
    assert (state.url, state.redirect_candidate) == ("https://x.org/feed", "https://x.org/new")
    _save(path, moved)
    with open_writer(path) as con:
        state = load_feed_states(con, NOW)["f"]
    assert (state.url, state.redirect_candidate) == ("https://x.org/new", None)
    # Editing feeds.toml wins over a learned redirect.
    with open_writer(path) as con:
        sync_feeds(con, [FeedConfig(name="f", url="https://y.org/rss")], NOW)
        assert load_feed_states(con, NOW)["f"].url == "https://y.org/rss"


def test_host_blocks_persist_and_the_later_time_wins(tmp_path: Path) -> None:
    path = _db(tmp_path)
    later, sooner = NOW + timedelta(minutes=5), NOW + timedelta(minutes=1)
    with open_writer(path) as con:
        save_host_blocks(con, {"a.test": later, "old.test": NOW - timedelta(minutes=1)})
        save_host_blocks(con, {"a.test": sooner})
    with open_writer(path) as con:
        assert load_host_blocks(con, NOW) == {"a.test": later}


def test_unknown_feeds_and_skips_are_ignored(tmp_path: Path) -> None:
    path = _db(tmp_path)
    _save(path, FeedPoll("gone", NOW, "ok", 200), FeedPoll("f", NOW, "skipped"))
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT last_attempt_at FROM feeds").fetchall() == [(None,)]


def test_a_feed_removed_from_the_configuration_leaves_the_health_report_until_it_returns(
    tmp_path: Path,
) -> None:
    path = _db(tmp_path)
    other = FeedConfig(name="g", url="https://y.org/feed")
    later, latest = NOW + timedelta(days=1), NOW + timedelta(days=2)
    with open_writer(path) as con:
        sync_feeds(con, [FEED, other], NOW)
        sync_feeds(con, [other], later)  # "f" left feeds.toml
        assert [r.feed_id for r in load_feed_rows(con)] == ["g"]
        kept = con.execute("SELECT id, removed_at FROM feeds ORDER BY id").fetchall()
        assert kept == [("f", later), ("g", None)]  # its row and history stay
        sync_feeds(con, [other], latest)  # still gone: removed when it left, not later
        assert con.execute("SELECT removed_at FROM feeds WHERE id = 'f'").fetchone() == (later,)
        sync_feeds(con, [FEED, other], latest)  # back
        assert [r.feed_id for r in load_feed_rows(con)] == ["f", "g"]
        assert con.execute(
            "SELECT count(*) FROM feeds WHERE removed_at IS NOT NULL"
        ).fetchone() == (0,)


@pytest.mark.parametrize(
    ("status", "age", "conditional"),
    [
        ("http_5xx", timedelta(days=1), False),  # a page to fetch again: read the feed in full
        ("timeout", timedelta(hours=71), False),
        ("http_5xx", timedelta(days=4), True),  # old news by now: the feed is conditional again
        ("ok", timedelta(hours=1), True),
        ("http_4xx", timedelta(hours=1), True),  # permanent: never fetched again
    ],
)
def test_a_feed_with_a_page_to_fetch_again_is_read_in_full(
    tmp_path: Path, status: str, age: timedelta, conditional: bool
) -> None:
    path = _db(tmp_path)
    _save(path, FeedPoll("f", NOW, "ok", 200, '"e1"', "Sun, 29 Nov 2026 07:00:00 GMT", "h1"))
    with open_writer(path) as con:
        con.execute(
            "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, fetched_at,"
            " text_source, status, content_hash, story_id)"
            " VALUES ('a', 'f', 'g', 'u', 'u', 't', ?, 'feed', ?, 'h', 'a')",
            [NOW - age, status],
        )
        state = load_feed_states(con, NOW)["f"]
    validators = (state.etag, state.last_modified, state.body_hash)
    assert validators == (
        ('"e1"', "Sun, 29 Nov 2026 07:00:00 GMT", "h1") if conditional else (None,) * 3
    )
