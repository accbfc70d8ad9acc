"""A page cannot claim another site's article through its rel=canonical (loopback sites)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from newsradar.config import load_config
from newsradar.identity import canonical_url
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, html_page, rss
from tests.test_pipeline import feeds_toml, run_pass
from tests.test_pipeline_updates import SETTINGS  # polls on every pass

PAGES = Path(__file__).parent / "fixtures" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
# Site A's own text: long enough to be a body, and firing no watch.
HARBOUR = (
    "The harbour board met on Monday evening to agree a new timetable for the island ferries.\n"
    "Crossings will start half an hour earlier from March, and two extra sailings are planned "
    "for the summer weekends, when queues at the quay have grown longer every year.\n"
    "The board also approved repairs to the old pier, which has been closed since the storm."
)


def claiming(html: str, canonical: str) -> str:
    """The page with a ``<link rel=canonical>`` naming ``canonical``."""
    return html.replace("<head>", f'<head><link rel="canonical" href="{canonical}">', 1)


@pytest.fixture
def sites() -> Iterator[tuple[LoopbackHTTPServer, LoopbackHTTPServer]]:
    # Two sites: same address, different ports, so different origins.
    a, b = LoopbackHTTPServer().start(), LoopbackHTTPServer().start()
    yield a, b
    a.stop()
    b.stop()


def test_a_page_claiming_another_sites_url_does_not_hide_that_sites_article(
    tmp_path: Path, sites: tuple[LoopbackHTTPServer, LoopbackHTTPServer]
) -> None:
    a, b = sites
    b_story = b.url("/story.html")
    a_items = [("a-1", "Ferry timetable agreed", a.url("/claim.html"), "Ferries.")]
    a.route("/claim.html", claiming(html_page("Ferry timetable", HARBOUR), b_story), headers=HTML)
    a.route("/feed.xml", rss(a_items), headers=RSS)
    b_page = (PAGES / "wire-outlet-b.html").read_text(encoding="utf-8")
    b.route("/story.html", b_page, headers=HTML)
    b.route("/feed.xml", rss([("b-1", "NATO head in Seoul", b_story, "Seoul.")]), headers=RSS)
    feeds = feeds_toml(("a-site", a.url("/feed.xml")))
    directory = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST, settings=SETTINGS)
    database = load_config(directory).storage.database

    # Pass 1: only A's feed. A's claim is refused: its article keeps its own URL.
    run_pass(load_config(directory))
    with duckdb.connect(str(database), read_only=True) as con:
        stored = con.execute("SELECT canonical_url FROM articles").fetchall()
    assert stored == [(canonical_url(a.url("/claim.html")),)]

    # Pass 2: B's feed lists the claimed URL. B's page is fetched, stored, matched, alerted.
    both = feeds_toml(("a-site", a.url("/feed.xml")), ("b-site", b.url("/feed.xml")))
    (directory / "feeds.toml").write_text(both)
    run_pass(load_config(directory))
    assert b.hits("/story.html") == 1
    with duckdb.connect(str(database), read_only=True) as con:
        b_id, b_canonical, b_status, b_text = con.execute(
            "SELECT id, canonical_url, status, text FROM articles WHERE feed_id = 'b-site'"
        ).fetchone() or ("", "", "", "")
        b_watches = con.execute(
            "SELECT DISTINCT watch_id FROM matches WHERE article_id = ? ORDER BY 1", [b_id]
        ).fetchall()
    assert (b_canonical, b_status) == (canonical_url(b_story), "ok")
    assert "NATO" in b_text and "harbour board" not in b_text
    assert ("nato",) in b_watches

    # Pass 3: A carries B's story word for word, naming B's URL as canonical. The copy is
    # stored under A's own URL and joins B's story by its text: no second alert.
    a_items.append(("a-2", "NATO head in Seoul", a.url("/copy.html"), "Seoul."))
    a.route("/copy.html", claiming(b_page, b_story), headers=HTML)
    a.route("/feed.xml", rss(a_items), headers=RSS)
    run_pass(load_config(directory))
    assert a.hits("/copy.html") == 1
    with duckdb.connect(str(database), read_only=True) as con:
        copy = con.execute(
            "SELECT canonical_url, story_id FROM articles WHERE guid = 'a-2'"
        ).fetchone()
        copy_matches = con.execute(
            "SELECT count(*) FROM matches m JOIN articles x ON x.id = m.article_id"
            " WHERE x.guid = 'a-2' AND m.watch_id = 'nato'"
        ).fetchone()
        alerts = con.execute(
            "SELECT watch_id, story_id, count(*) FROM alerts WHERE watch_id = 'nato' GROUP BY ALL"
        ).fetchall()
    assert copy == (canonical_url(a.url("/copy.html")), b_id)
    assert copy_matches is not None and copy_matches[0] > 0
    assert alerts == [("nato", b_id, 1)]
