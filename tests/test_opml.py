"""OPML import/export: round trips, duplicates, hostile files."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsradar.config import FeedConfig
from newsradar.errors import NewsradarError
from newsradar.opml import Outline, feeds_toml, outlines_to_feeds, read_opml, write_opml

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My subs</title></head><body>
  <outline text="Asia" title="Asia">
    <outline type="rss" text="DW Asia" title="DW \xc3\x84sia &quot;news&quot;" xmlURL="https://rss.dw.com/asia"/>
    <outline type="rss" text="NK News" xmlUrl="https://www.nknews.org/feed/"/>
  </outline>
  <outline type="rss" text="" xmlUrl="https://example.org/rss.xml"/>
  <outline type="rss" text="dup" xmlUrl="https://rss.dw.com/asia"/>
  <outline type="rss" text="bad" xmlUrl="ftp://example.org/feed"/>
  <outline text="no url"/>
</body></opml>"""


def test_import_names_tags_and_skips_with_reasons() -> None:
    existing = (FeedConfig(name="nk-news", url="https://other.org/feed"),)
    added, skipped = outlines_to_feeds(read_opml(READER_EXPORT), existing)
    assert [(f.name, f.url, f.tags) for f in added] == [
        ("dw-asia-news", "https://rss.dw.com/asia", ("asia",)),
        ("nk-news-2", "https://www.nknews.org/feed/", ("asia",)),
        ("example-org-rss-xml", "https://example.org/rss.xml", ()),
    ]
    assert added[0].title == 'DW \u00c4sia "news"'
    assert [s.split(":")[0] for s in skipped] == ["https", "ftp"]
    assert "already in feeds.toml" in skipped[0] and "not an http(s) URL" in skipped[1]
    # What we append is valid TOML that loads back into the same feeds.
    loaded = tomllib.loads(feeds_toml(added))["feed"]
    assert [FeedConfig.model_validate(t) for t in loaded] == added


def test_export_then_import_round_trips() -> None:
    feeds = [
        FeedConfig(name="a", url="https://a.org/feed?x=1&y=2", title="A <b>&</b>", tags=("t",)),
        FeedConfig(name="b", url="https://b.org/rss"),
    ]
    added, skipped = outlines_to_feeds(read_opml(write_opml(feeds).encode()), ())
    assert [(f.url, f.title or f.name) for f in added] == [
        (f.url, f.title or f.name) for f in feeds
    ]
    assert added[0].tags == ("t",) and skipped == []


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]><opml/>',
        b"<opml><body><outline xmlUrl='https://x.org/'",
        b"not xml at all",
    ],
)
def test_hostile_or_broken_files_are_refused_cleanly(data: bytes) -> None:
    with pytest.raises(NewsradarError):
        read_opml(data, "subs.opml")


@given(st.text(min_size=1, max_size=40))
def test_any_title_becomes_valid_toml(title: str) -> None:
    outline_feeds, _ = outlines_to_feeds(
        read_opml(write_opml([FeedConfig(name="x", url="https://x.org/", title=title)]).encode()),
        (),
    )
    for feed in outline_feeds:
        assert tomllib.loads(feeds_toml([feed]))["feed"][0]["url"] == "https://x.org/"


@pytest.mark.parametrize(
    "spelling",
    [
        "HTTPS://News.Example.org/feed",  # scheme and host are case-insensitive
        "https://news.example.org:443/feed",  # the default port, written out
        "https://news.example.org/feed#top",  # a fragment is never sent
        "https://NEWS.example.org./feed",  # the root dot of a fully qualified name
    ],
)
def test_a_configured_feed_spelled_another_way_is_skipped(spelling: str) -> None:
    existing = (FeedConfig(name="news", url="https://news.example.org/feed"),)
    added, skipped = outlines_to_feeds([Outline(spelling, "News")], existing)
    assert added == [] and skipped == [f"{spelling}: already in feeds.toml"]


def test_one_feed_listed_twice_in_other_spellings_is_added_once() -> None:
    outlines = [Outline("http://a.example/rss", "A"), Outline("HTTP://A.EXAMPLE:80/rss", "A")]
    added, skipped = outlines_to_feeds(outlines, ())
    assert [f.url for f in added] == ["http://a.example/rss"] and len(skipped) == 1


@pytest.mark.parametrize(
    "other",
    [
        "https://news.example.org/Feed",  # paths are case-sensitive
        "http://news.example.org/feed",  # another scheme is another URL
        "https://news.example.org:8443/feed",
        "https://news.example.org/feed?page=2",
    ],
)
def test_a_different_url_is_still_added(other: str) -> None:
    existing = (FeedConfig(name="news", url="https://news.example.org/feed"),)
    added, _ = outlines_to_feeds([Outline(other, "News")], existing)
    assert [f.url for f in added] == [other]
