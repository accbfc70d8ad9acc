"""Updates: an edited headline or text is the same article, re-matched, alerted once."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from newsradar.config import Config, load_config
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer, Request, Response
from tests.sample_site import WATCHLIST, html_page, rss
from tests.test_pipeline import feeds_toml, run_pass

# Poll on every pass (the default floor of 300 s would skip the second one).
SETTINGS = """
[storage]
database = "data/newsradar.duckdb"
lock_timeout = 5
[alerts]
outbox_dir = "data/outbox"
recipients = ["analyst@example.org"]
[fetch]
allow_networks = ["127.0.0.1/32"]
min_host_delay = 0
timeout = 5
deadline = 10
min_poll_interval = 0
"""
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
FIRST = """NATO foreign ministers met in Brussels on Thursday to discuss support for allies.
The meeting focused on air defence, ammunition production and training programmes.
Officials said a joint statement would follow later in the day after further talks.
"""
# The edited text newly mentions Russia; NATO still fires but was alerted already.
EDITED = (
    FIRST
    + """Ministers also discussed new sanctions on Russia and ways to enforce them.
"""
)


def serve(server: LoopbackHTTPServer, title: str, body: str) -> None:
    server.route("/a.html", html_page(title, body), headers=HTML)
    server.route(
        "/feed.xml", rss([("item-1", title, server.url("/a.html"), "Ministers met.")]), headers=RSS
    )


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def config(tmp_path: Path, http_server: LoopbackHTTPServer) -> Config:
    feeds = feeds_toml(("wire", http_server.url("/feed.xml")))
    return load_config(write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST,
                                    settings=SETTINGS))  # fmt: skip


def test_headline_and_text_edit_updates_the_article_and_alerts_new_watches_once(
    config: Config, http_server: LoopbackHTTPServer
) -> None:
    serve(http_server, "NATO ministers meet", FIRST)
    first = run_pass(config)
    db = config.storage.database
    [(article_id, story_id)] = rows(db, "SELECT id, story_id FROM articles")

    serve(http_server, "NATO ministers meet, discuss Russia sanctions", EDITED)
    second = run_pass(config)
    third = run_pass(config)

    assert (first.articles_stored, first.entries_new) == (1, 1)
    assert (second.articles_stored, second.entries_new) == (1, 0)
    assert (third.articles_stored, third.entries_new) == (0, 0)
    [(same_id, same_story, title, text)] = rows(
        db, "SELECT id, story_id, title, text FROM articles"
    )
    assert (same_id, same_story) == (article_id, story_id)
    assert title == "NATO ministers meet, discuss Russia sanctions"
    assert "sanctions on Russia" in text
    # Matches point into the current text only.
    spans = rows(db, 'SELECT field, "start", "end", text FROM matches')
    for field, start, end, matched in spans:
        source = title if field == "title" else text
        assert source[start:end] == matched
    assert {w for (w,) in rows(db, "SELECT DISTINCT watch_id FROM matches")} == {"nato", "russia"}
    assert sorted(rows(db, "SELECT watch_id, kind FROM alerts")) == [
        ("nato", "match"),
        ("russia", "update"),
    ]


def test_unchanged_page_behind_a_retitled_entry_changes_only_the_title(
    config: Config, http_server: LoopbackHTTPServer
) -> None:
    serve(http_server, "NATO ministers meet", FIRST)
    run_pass(config)
    serve(http_server, "NATO ministers meet in Brussels", FIRST)
    run_pass(config)

    db = config.storage.database
    assert rows(db, "SELECT title FROM articles") == [("NATO ministers meet in Brussels",)]
    assert rows(db, "SELECT watch_id, kind FROM alerts") == [("nato", "match")]


def test_page_over_the_time_limit_is_stored_with_the_feed_text_and_the_pass_goes_on(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    # 300,000 tiny paragraphs keep trafilatura busy for many seconds; the limit is 2 s.
    http_server.route("/huge.html", "<html><body>" + "<p>x</p>" * 300_000, headers=HTML)
    http_server.route("/a.html", html_page("NATO ministers meet", FIRST), headers=HTML)
    http_server.route(
        "/feed.xml",
        rss(
            [
                ("huge", "Huge page", http_server.url("/huge.html"), "NATO summary of it."),
                ("next", "NATO ministers meet", http_server.url("/a.html"), "Ministers met."),
            ]
        ),
        headers=RSS,
    )
    settings = SETTINGS + "max_page_bytes = 5000000\n[extract]\nworkers = 1\ntimeout = 2\n"
    feeds = feeds_toml(("wire", http_server.url("/feed.xml")))
    config = load_config(
        write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST, settings=settings)
    )

    summary = run_pass(config)

    db = config.storage.database
    assert summary.articles_stored == 2
    stored = rows(db, "SELECT guid, status, text_source, text FROM articles ORDER BY guid")
    assert stored[0] == ("huge", "extract_timeout", "feed", "NATO summary of it.")
    assert stored[1][:3] == ("next", "ok", "page")
    assert "Officials said a joint statement" in str(stored[1][3])
    assert rows(db, "SELECT kind FROM events WHERE stage = 'extract'") == [("extract_timeout",)]


@pytest.mark.parametrize(
    ("failing", "status"),
    [("/a.html", "http_5xx"), ("/robots.txt", "robots_unavailable")],
)
def test_page_that_failed_for_a_while_is_fetched_again_on_a_later_pass(
    tmp_path: Path, http_server: LoopbackHTTPServer, failing: str, status: str
) -> None:
    # A 5xx (or an unreadable robots.txt) is temporary: the feed's text is stored meanwhile,
    # and the page is fetched again once the feed is read again, not kept summary-only forever.
    feeds = feeds_toml(("wire", http_server.url("/feed.xml")))
    settings = SETTINGS + "retries = 0\n"
    config = load_config(write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST,
                                      settings=settings))  # fmt: skip
    serve(http_server, "Ministers meet", FIRST)
    http_server.route(failing, b"down", status=503)
    first = run_pass(config)
    db = config.storage.database
    [(article_id, stored_status, text)] = rows(db, "SELECT id, status, text FROM articles")
    assert (first.articles_stored, stored_status, text) == (1, status, "Ministers met.")

    del http_server.routes[failing]
    serve(http_server, "Ministers meet", FIRST)  # the page is back (robots.txt: 404)
    item = ("item-2", "Weather", http_server.url("/b.html"), "Rain.")  # the feed changed
    http_server.route("/b.html", html_page("Weather", "Rain all day. " * 30), headers=HTML)
    http_server.route(
        "/feed.xml",
        rss([("item-1", "Ministers meet", http_server.url("/a.html"), "Ministers met."), item]),
        headers=RSS,
    )
    run_pass(config)
    run_pass(config)

    [(same_id, now_status, text)] = rows(
        db, "SELECT id, status, text FROM articles WHERE guid = 'item-1'"
    )
    assert (same_id, now_status) == (article_id, "ok") and "air defence" in text
    assert rows(db, "SELECT watch_id, kind FROM alerts") == [("nato", "update")]


@pytest.mark.parametrize("unchanged", ["same bytes", "304"])
def test_a_failed_page_is_fetched_again_while_its_feed_stays_the_same(
    tmp_path: Path, http_server: LoopbackHTTPServer, unchanged: str
) -> None:
    # A quiet feed answers 304 (or the very same bytes) for days: the page that failed must
    # not wait for the feed's next item to be fetched again.
    feeds = feeds_toml(("wire", http_server.url("/feed.xml")))
    settings = SETTINGS + "retries = 0\n"
    config = load_config(write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST,
                                      settings=settings))  # fmt: skip
    feed = rss([("item-1", "Ministers meet", http_server.url("/a.html"), "Ministers met.")])
    etag = {"ETag": '"v1"'} if unchanged == "304" else {}
    http_server.route("/feed.xml", feed, headers={**RSS, **etag})
    http_server.route("/a.html", b"down", status=503)
    run_pass(config)
    db = config.storage.database
    assert rows(db, "SELECT status FROM articles") == [("http_5xx",)]

    http_server.route("/a.html", html_page("Ministers meet", FIRST), headers=HTML)
    if unchanged == "304":

        def conditional(request: Request) -> Response:
            if request.headers.get("if-none-match") == etag["ETag"]:
                return Response(304, b"", etag)
            return Response(200, feed.encode(), {**RSS, **etag})

        http_server.route("/feed.xml", handler=conditional)
    run_pass(config)

    [(status, text)] = rows(db, "SELECT status, text FROM articles")
    assert status == "ok" and "air defence" in text
    run_pass(config)  # fetched: the feed is conditional again (nothing left to retry)
    polls = [r.headers.get("if-none-match") for r in http_server.requests if r.path == "/feed.xml"]
    assert len(polls) == 3, polls
    assert polls[-1] == ('"v1"' if unchanged == "304" else None)


def test_an_edited_copy_alerts_only_watches_new_to_its_story(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    copy_site = LoopbackHTTPServer().start()
    try:
        # The lead already mentions Russia; the copy on another site does not, at first.
        serve(http_server, "NATO ministers meet", EDITED)
        serve(copy_site, "NATO ministers meet", FIRST)
        feeds = feeds_toml(
            ("lead", http_server.url("/feed.xml")), ("copy", copy_site.url("/feed.xml"))
        )
        config = load_config(
            write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST, settings=SETTINGS)
        )
        run_pass(config)
        db = config.storage.database
        assert rows(db, "SELECT count(DISTINCT story_id) FROM articles") == [(1,)]

        # The copy is edited: Russia (alerted for the story already) and Tokyo (new to it).
        edited = EDITED + "Talks continue in Tokyo next week.\n"
        serve(copy_site, "NATO ministers meet on sanctions", edited)
        run_pass(config)
    finally:
        copy_site.stop()

    assert sorted(rows(db, "SELECT watch_id, kind FROM alerts")) == [
        ("japan", "update"),
        ("nato", "match"),
        ("russia", "match"),
    ]


def test_headline_edit_in_a_feed_without_guids_updates_a_page_with_another_canonical(
    config: Config, http_server: LoopbackHTTPServer
) -> None:
    # No <guid>: the synthetic guid changes with the headline. The page names another URL as
    # its canonical one, so the stored canonical URL is not the feed's link either.
    page = html_page("NATO ministers meet", FIRST).replace(
        "</title>", f"</title><link rel='canonical' href='{http_server.url('/news/a')}'>"
    )
    http_server.route("/a.html", page, headers=HTML)

    def feed(title: str) -> str:
        link = http_server.url("/a.html?from=rss")
        return (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title>"
            f"<item><title>{title}</title><link>{link}</link></item></channel></rss>"
        )

    http_server.route("/feed.xml", feed("NATO ministers meet"), headers=RSS)
    run_pass(config)
    http_server.route("/feed.xml", feed("NATO ministers meet in Brussels"), headers=RSS)
    run_pass(config)

    assert rows(config.storage.database, "SELECT title FROM articles") == [
        ("NATO ministers meet in Brussels",)
    ]


def atom(feed_id: str, title: str, link: str, updated: str) -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>{feed_id}</title><id>urn:{feed_id}</id><updated>{updated}</updated>"
        f"<entry><id>urn:{feed_id}:1</id><title>{title}</title><link href='{link}'/>"
        f"<updated>{updated}</updated><summary>Ministers met.</summary></entry></feed>"
    )


def test_another_feed_dating_the_page_later_does_not_rewrite_the_stored_article(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    atom_type = {"Content-Type": "application/atom+xml"}
    link = http_server.url("/a.html")
    http_server.route("/a.html", html_page("NATO ministers meet", FIRST), headers=HTML)
    http_server.route(
        "/a.xml", atom("a", "NATO ministers meet", link, "2026-11-22T09:00:00Z"), headers=atom_type
    )
    http_server.route(
        "/b.xml", atom("b", "Brussels talks", link, "2026-11-23T09:00:00Z"), headers=atom_type
    )
    directory = write_config(
        tmp_path / "cfg",
        feeds=feeds_toml(("wire", http_server.url("/a.xml"))),
        watchlist=WATCHLIST,
        settings=SETTINGS,
    )
    run_pass(load_config(directory))
    both = (("wire", http_server.url("/a.xml")), ("aggregator", http_server.url("/b.xml")))
    (directory / "feeds.toml").write_text(feeds_toml(*both))
    config = load_config(directory)
    run_pass(config)

    # The aggregator links the page stored from the wire: seen, whatever date it gives it.
    assert rows(config.storage.database, "SELECT feed_id, title, summary FROM articles") == [
        ("wire", "NATO ministers meet", "Ministers met.")
    ]
    assert http_server.hits("/a.html") == 1


def test_a_watch_that_fires_again_after_an_edit_removed_it_is_not_alerted_twice(
    config: Config, http_server: LoopbackHTTPServer
) -> None:
    # NATO fires, an edit drops it, a later edit brings it back: still one alert for NATO.
    serve(http_server, "NATO ministers meet", FIRST)
    run_pass(config)
    serve(http_server, "Ministers meet in Brussels", FIRST.replace("NATO foreign", "Foreign"))
    run_pass(config)
    serve(http_server, "NATO ministers meet again", FIRST)
    run_pass(config)

    db = config.storage.database
    assert rows(db, "SELECT title FROM articles") == [("NATO ministers meet again",)]
    assert rows(db, "SELECT watch_id, kind FROM alerts") == [("nato", "match")]
