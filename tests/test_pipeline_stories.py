"""One story however many sites carry it: a syndicated copy on two loopback hosts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from newsradar.config import load_config
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, rss
from tests.test_pipeline import feeds_toml, run_pass

PAGES = Path(__file__).parent / "fixtures" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


def outlet(server: LoopbackHTTPServer, page: str, guid: str, title: str) -> None:
    """A site whose feed has one item linking to ``page`` (its own boilerplate)."""
    server.route("/story.html", (PAGES / page).read_bytes(), headers=HTML)
    server.route(
        "/feed.xml",
        rss([(guid, title, server.url("/story.html"), "Alliance chief in Seoul.")]),
        headers=RSS,
    )


@pytest.fixture
def hosts() -> Iterator[list[LoopbackHTTPServer]]:
    servers = [LoopbackHTTPServer().start() for _ in range(3)]
    yield servers
    for s in servers:
        s.stop()


def stories(database: Path) -> list[tuple[str, str, str]]:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT feed_id, id, story_id FROM articles ORDER BY feed_id").fetchall()
    return [(f, a, s) for f, a, s in rows]


def test_syndicated_copy_on_two_hosts_is_one_story_and_one_alert(
    tmp_path: Path, hosts: list[LoopbackHTTPServer]
) -> None:
    first, second, third = hosts
    outlet(first, "wire-outlet-a.html", "harbour-1", "Alliance chief warns of arms for Russia")
    outlet(second, "wire-outlet-b.html", "courier-77", "NATO head in Seoul")
    third.route("/story.html", (PAGES / "other-story.html").read_bytes(), headers=HTML)
    third.route(
        "/feed.xml",
        rss([("other-1", "Japan to boost missile defence", third.url("/story.html"), "")]),
        headers=RSS,
    )
    config = load_config(
        write_config(
            tmp_path / "cfg",
            feeds=feeds_toml(
                ("a-harbour", first.url("/feed.xml")),
                ("b-courier", second.url("/feed.xml")),
                ("c-other", third.url("/feed.xml")),
            ),
            watchlist=WATCHLIST,
        )
    )

    summary = run_pass(config)

    assert summary.articles_stored == 3
    rows = stories(config.storage.database)
    (_, lead_id, lead_story), (_, copy_id, copy_story), (_, other_id, other_story) = rows
    # The first one seen is the story's lead; the copy joins it; another story stays apart.
    assert lead_story == lead_id
    assert copy_story == lead_id and copy_id != lead_id
    assert other_story == other_id
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        alerts = con.execute(
            "SELECT story_id, count(*) FROM alerts WHERE watch_id = 'nato' GROUP BY story_id"
        ).fetchall()
        signatures = con.execute("SELECT count(*) FROM story_signatures").fetchone()
    assert alerts == [(lead_id, 1)]
    assert signatures == (3,)


def test_a_copy_published_in_a_later_run_joins_the_stored_story(
    tmp_path: Path, hosts: list[LoopbackHTTPServer]
) -> None:
    first, second, _ = hosts
    outlet(first, "wire-outlet-a.html", "harbour-1", "Alliance chief warns of arms for Russia")
    directory = write_config(
        tmp_path / "cfg",
        feeds=feeds_toml(("a-harbour", first.url("/feed.xml"))),
        watchlist=WATCHLIST,
    )
    run_pass(load_config(directory))
    [(_, lead_id, _)] = stories(load_config(directory).storage.database)

    outlet(second, "wire-outlet-b.html", "courier-77", "NATO head in Seoul")
    (directory / "feeds.toml").write_text(
        feeds_toml(("a-harbour", first.url("/feed.xml")), ("b-courier", second.url("/feed.xml")))
    )
    config = load_config(directory)
    summary = run_pass(config)

    assert summary.articles_stored == 1
    assert [s for _, _, s in stories(config.storage.database)] == [lead_id, lead_id]
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        nato = con.execute("SELECT count(*) FROM alerts WHERE watch_id = 'nato'").fetchone()
    assert nato == (1,)


def test_feed_whose_items_share_one_link_keeps_every_item(
    tmp_path: Path, hosts: list[LoopbackHTTPServer]
) -> None:
    site = hosts[0]
    site.route("/", (PAGES / "other-story.html").read_bytes(), headers=HTML)
    summaries = [
        "Ministers agreed a new budget for the ports after a long night of talks in the capital.",
        "The ferry company announced a winter timetable with fewer crossings on weekday mornings.",
        "A storm closed the coastal road for six hours and cut power to several hundred homes.",
    ]
    items = [(f"bulletin-{i}", f"Bulletin {i}", site.url("/"), s) for i, s in enumerate(summaries)]
    site.route("/feed.xml", rss(items), headers=RSS)
    config = load_config(
        write_config(
            tmp_path / "cfg",
            feeds=feeds_toml(("bulletins", site.url("/feed.xml"))),
            watchlist=WATCHLIST,
        )
    )

    first = run_pass(config)
    second = run_pass(config)

    assert (first.articles_stored, second.articles_stored) == (3, 0)
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        rows = con.execute(
            "SELECT guid, text, text_source, story_id = id FROM articles ORDER BY guid"
        ).fetchall()
    # The shared page is not any item's article: each keeps its own summary and story.
    assert rows == [(f"bulletin-{i}", s, "feed", True) for i, s in enumerate(summaries)]
    assert site.hits("/") == 0


SHORT_ITEM = "NATO chief lands in Seoul for talks on North Korea."


def short_outlet(server: LoopbackHTTPServer, guid: str, title: str, summary: str) -> None:
    """A site whose item is a brief: the page is too short, so the feed's text is the body."""
    server.route("/brief.html", "<html><body><p>Brief.</p></body></html>", headers=HTML)
    server.route("/feed.xml", rss([(guid, title, server.url("/brief.html"), summary)]), headers=RSS)


@pytest.mark.parametrize("same_pass", [True, False])
def test_an_exact_copy_of_a_short_item_joins_its_story_and_alerts_once(
    tmp_path: Path, hosts: list[LoopbackHTTPServer], same_pass: bool
) -> None:
    first, second, _ = hosts
    short_outlet(first, "wire-1", "NATO chief in Seoul", SHORT_ITEM)
    short_outlet(second, "mirror-9", "NATO chief in Seoul", SHORT_ITEM)
    both = feeds_toml(("a-wire", first.url("/feed.xml")), ("b-mirror", second.url("/feed.xml")))
    directory = write_config(
        tmp_path / "cfg",
        feeds=both if same_pass else feeds_toml(("a-wire", first.url("/feed.xml"))),
        watchlist=WATCHLIST,
    )
    run_pass(load_config(directory))
    if not same_pass:
        (directory / "feeds.toml").write_text(both)
        run_pass(load_config(directory))
    database = load_config(directory).storage.database

    (_, lead_id, lead_story), (_, copy_id, copy_story) = stories(database)
    # Both copies are kept (each outlet carried it), as one story led by the first.
    assert (lead_story, copy_story) == (lead_id, lead_id) and copy_id != lead_id
    with duckdb.connect(str(database), read_only=True) as con:
        alerts = con.execute(
            "SELECT watch_id, story_id, kind FROM alerts ORDER BY watch_id"
        ).fetchall()
    assert alerts == [(w, lead_id, "match") for w in ("nato", "north-korea", "south-korea")]


def test_short_items_sharing_a_boilerplate_summary_stay_apart(
    tmp_path: Path, hosts: list[LoopbackHTTPServer]
) -> None:
    first, second, _ = hosts
    boilerplate = "Read the full story on our website."
    short_outlet(first, "a-1", "NATO chief in Seoul", boilerplate)
    short_outlet(second, "b-1", "Tokyo hosts NATO ministers", boilerplate)
    config = load_config(
        write_config(
            tmp_path / "cfg",
            feeds=feeds_toml(("a", first.url("/feed.xml")), ("b", second.url("/feed.xml"))),
            watchlist=WATCHLIST,
        )
    )

    run_pass(config)

    # The same text under different headlines is not a copy: two stories, two NATO alerts.
    rows = stories(config.storage.database)
    assert [a == s for _, a, s in rows] == [True, True]
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        nato = con.execute("SELECT count(*) FROM alerts WHERE watch_id = 'nato'").fetchone()
    assert nato == (2,)
