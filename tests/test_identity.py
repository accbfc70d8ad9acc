"""Identity: canonical URLs, wrapper unwrapping, rel=canonical, and new/update/seen rules."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

import newsradar.identity as identity_module
from newsradar.identity import (
    EMPTY_HASH,
    EntryKeys,
    KnownArticle,
    KnownKeys,
    Verdict,
    article_id,
    canonical_url,
    classify_entry,
    content_hash,
    copy_key,
    preferred_url,
    unwrap_url,
)


def google_news(url: str, prefix: str = "https://news.google.com/rss/articles/") -> str:
    """A Google News link in the older format, which carries its target (field 4)."""
    raw = url.encode()
    length = (
        bytes([len(raw)]) if len(raw) < 128 else bytes([(len(raw) & 0x7F) | 0x80, len(raw) >> 7])
    )
    token = base64.urlsafe_b64encode(b"\x08\x13\x22" + length + raw + b"\xd2\x01\x00").decode()
    return prefix + token.rstrip("=") + "?oc=5"


def test_public_surface() -> None:
    assert "classify_entry" in identity_module.__all__
    assert "canonical_url" in identity_module.__all__


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTP://Example.COM/a", "https://example.com/a"),
        ("http://www.example.com/a", "https://example.com/a"),
        ("https://www.example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"),
        ("https://example.com/a?id=7&fbclid=x&gclid=y&msclkid=z", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?mc_cid=1&mc_eid=2&igshid=3&ref_src=4", "https://example.com/a"),
        ("https://example.com/Case/Path", "https://example.com/Case/Path"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("", ""),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


REUTERS = "https://www.reuters.com/world/asia-pacific/nato-chief-visits-seoul-2024-05-17/"
LONG = "https://www.example.org/news/" + "x" * 150 + "?id=1"


@pytest.mark.parametrize(
    ("wrapped", "target"),
    [
        (google_news(REUTERS), REUTERS),
        (google_news(REUTERS, "https://news.google.com/articles/"), REUTERS),
        (google_news(LONG, "https://news.google.com/__i/rss/rd/articles/"), LONG),
        ("https://news.google.com/news/url?sa=t&url=https://ex.org/a", "https://ex.org/a"),
        ("https://www.google.com/url?q=https://ex.org/a&sa=U", "https://ex.org/a"),
        (
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&url=https%3a%2f%2fex.org%2fa&c=1",
            "https://ex.org/a",
        ),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fex.org%2Fa&h=AT0", "https://ex.org/a"),
        # Nested wrappers.
        (
            "https://www.google.com/url?q="
            + "https://l.facebook.com/l.php?u=https%3A%2F%2Fex.org%2Fa",
            "https://ex.org/a",
        ),
        # Opaque (newer) Google News ids and non-http targets stay as they are.
        ("https://news.google.com/rss/articles/CBMiAU_yqLOpaqueToken?oc=5", None),
        ("https://www.google.com/url?q=javascript:alert(1)", None),
        ("https://www.google.com/search?q=https://ex.org/a", None),
    ],
)
def test_unwrap_url(wrapped: str, target: str | None) -> None:
    assert unwrap_url(wrapped) == (target or wrapped)


def test_google_news_link_and_direct_link_are_one_url() -> None:
    assert canonical_url(google_news(REUTERS)) == canonical_url(REUTERS + "?utm_source=x")


@pytest.mark.parametrize(
    ("entry_url", "page_canonical", "expected"),
    [
        ("https://ex.org/a?utm_source=rss", "https://www.ex.org/a", "https://ex.org/a"),
        ("https://ex.org/amp/a", "https://ex.org/a", "https://ex.org/a"),
        # Another site's page cannot claim an article of ex.org (a syndicated copy joins the
        # original's story by its text instead).
        ("https://partner.net/x/123", "https://ex.org/a", "https://partner.net/x/123"),
        # A canonical pointing at the home page is a CMS mistake.
        ("https://ex.org/a", "https://ex.org/", "https://ex.org/a"),
        ("https://ex.org/a", "javascript:void(0)", "https://ex.org/a"),
        ("https://ex.org/a", None, "https://ex.org/a"),
        # No link, so no page whose site could vouch for the canonical.
        ("", "https://ex.org/a", ""),
        # Unparseable URLs (unclosed IPv6 bracket) from a page or a feed: no identity.
        ("https://ex.org/a", "https://[::1/x", "https://ex.org/a"),
        ("http://[::1/x", None, ""),
    ],
)
def test_preferred_url(entry_url: str, page_canonical: str | None, expected: str) -> None:
    assert preferred_url(entry_url, page_canonical) == expected


@pytest.mark.parametrize(
    ("page_url", "page_canonical", "trusted"),
    [
        ("https://ex.org/a", "https://ex.org/story", True),  # same host
        ("https://www.ex.org/a", "https://ex.org/story", True),  # www variant
        ("https://ex.org/a", "https://www.ex.org/story", True),
        ("https://EX.org./a", "https://ex.ORG/story", True),  # case, trailing dot
        ("https://amp.ex.org/a", "https://www.ex.org/story", True),  # subdomain, same site
        ("https://ex.org/a", "https://news.ex.org/story", True),
        ("https://news.bbc.co.uk/a", "https://bbc.co.uk/story", True),  # multi-label suffix
        ("http://ex.org/a", "https://ex.org/story", True),  # http vs https
        ("https://ex.org/a", "http://ex.org/story", True),
        ("https://ex.org:443/a", "http://ex.org:80/story", True),  # default ports
        ("http://ex.org:8080/a", "http://ex.org:8080/story", True),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/story", True),
        ("https://a.test/a", "https://a.test/story", True),  # no public suffix: same host
        ("https://partner.net/a", "https://ex.org/story", False),  # another site
        ("https://evilex.org/a", "https://ex.org/story", False),
        ("https://ex.org.evil.net/a", "https://ex.org/story", False),
        ("https://bbc.co.uk/a", "https://other.co.uk/story", False),  # public suffix co.uk
        ("https://alice.github.io/a", "https://bob.github.io/story", False),  # private suffix
        ("https://a.test/a", "https://b.test/story", False),
        ("http://ex.org:8080/a", "https://ex.org/story", False),  # another port
        ("https://ex.org/a", "https://ex.org:8443/story", False),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/story", False),
        ("http://10.0.0.1/a", "http://10.0.0.2/story", False),
        # A redirect wrapper is judged by its target, the URL that would be stored.
        ("https://evil.net/a", "https://www.google.com/url?q=https://ex.org/story", False),
    ],
)
def test_preferred_url_trusts_a_canonical_only_on_the_pages_own_site(
    page_url: str, page_canonical: str, trusted: bool
) -> None:
    expected = canonical_url(page_canonical) if trusted else canonical_url(page_url)
    assert preferred_url(page_url, page_canonical, page_url) == expected


@pytest.mark.parametrize(
    ("entry_url", "final_url", "page_canonical", "expected"),
    [
        # A feed's redirector leads to the article: its page speaks for its own site.
        (
            "https://feeds.example/r/1",
            "https://ex.org/a",
            "https://ex.org/story",
            "https://ex.org/story",
        ),
        # An open redirect on ex.org leads elsewhere: that page cannot claim ex.org's URL.
        (
            "https://ex.org/go?to=1",
            "https://evil.net/p",
            "https://ex.org/story",
            "https://ex.org/go?to=1",
        ),
        # Without a redirect, the page cannot claim another site's URL either.
        ("https://ex.org/a", "https://ex.org/a", "https://evil.net/story", "https://ex.org/a"),
    ],
)
def test_preferred_url_compares_with_the_page_reached_after_redirects(
    entry_url: str, final_url: str, page_canonical: str, expected: str
) -> None:
    assert preferred_url(entry_url, page_canonical, final_url) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("NATO chief in Seoul", "brief"), ("nato  chief in SEOUL", "Brief"), True),
        (("NATO chief in Seoul", "read more"), ("Tokyo hosts NATO", "read more"), False),
        (("NATO chief in Seoul", "brief"), ("NATO chief in Seoul", "another brief"), False),
    ],
)
def test_copy_key_needs_the_same_headline_and_body(
    a: tuple[str, str], b: tuple[str, str], same: bool
) -> None:
    key_a = copy_key(a[0], content_hash(a[1]))
    key_b = copy_key(b[0], content_hash(b[1]))
    assert key_a is not None and (key_a == key_b) is same


def test_copy_key_of_an_empty_body_is_none() -> None:
    assert copy_key("NATO chief in Seoul", EMPTY_HASH) is None


def test_content_hash_normalises_case_space_and_width() -> None:
    assert content_hash("NATO  chief\nvisits") == content_hash("nato chief visits")
    assert content_hash("Ｎａｔｏ") == content_hash("nato")  # NFKC
    assert content_hash("Südbaden") != content_hash("Sudbaden")  # accents kept
    assert EMPTY_HASH == content_hash("   ")


STORED = KnownArticle(
    article_id="a1",
    feed_id="dw",
    guid="g1",
    canonical_url="https://ex.org/a",
    title="NATO chief visits Seoul",
    content_hash=content_hash("body one"),
)
OTHER_FEED = KnownArticle("a2", "ap", "z9", "https://ap.org/s", "Wire story", content_hash("wire"))
KNOWN = KnownKeys.of([STORED, OTHER_FEED])
H1, H2 = content_hash("body one"), content_hash("body two")


@pytest.mark.parametrize(
    ("entry", "shared", "expected"),
    [
        # Same guid, nothing changed.
        (EntryKeys("dw", "g1", "https://ex.org/a", "NATO chief visits Seoul"), False,
         Verdict("seen", "a1", "guid")),
        (EntryKeys("dw", "g1", "https://ex.org/a", "NATO chief visits Seoul", H1), False,
         Verdict("seen", "a1", "guid")),
        # Whitespace and case are not edits.
        (EntryKeys("dw", "g1", "https://ex.org/a", "NATO  chief visits SEOUL"), False,
         Verdict("seen", "a1", "guid")),
        # Headline edit: an update of the same article, not a new one.
        (EntryKeys("dw", "g1", "https://ex.org/a", "NATO chief lands in Seoul"), False,
         Verdict("update", "a1", "guid", ("title",))),
        (EntryKeys("dw", "g1", "https://ex.org/a", "NATO chief visits Seoul", H2), False,
         Verdict("update", "a1", "guid", ("text",))),
        # A re-issued guid at the same URL with an edited headline: same article, updated.
        (EntryKeys("dw", "g1-v2", "https://ex.org/a", "NATO chief lands in Seoul"), False,
         Verdict("update", "a1", "url", ("title",))),
        # Another feed linking the same page: already seen (its headline is its own).
        (EntryKeys("rss2", "x", "https://ex.org/a", "Another headline"), False,
         Verdict("seen", "a1", "url")),
        # Same guid string in another feed is another article.
        (EntryKeys("other", "g1", "https://other.org/b", "Unrelated"), False,
         Verdict("new", article_id("other", "g1"))),
        # Same content under a new guid and URL: a duplicate copy.
        (EntryKeys("x", "new", "https://x.org/copy", "Copy", H1), False,
         Verdict("seen", "a1", "content")),
        # Empty bodies identify nothing.
        (EntryKeys("x", "new", "https://x.org/e", "Empty", EMPTY_HASH), False,
         Verdict("new", article_id("x", "new"))),
        # Feeds whose items all share one <link>: distinguished by guid and content.
        (EntryKeys("dw", "g2", "https://ex.org/a", "Second item", H2), True,
         Verdict("new", article_id("dw", "g2"))),
        (EntryKeys("dw", "g3", "https://ex.org/a", "Same body", H1), True,
         Verdict("seen", "a1", "content")),
        (EntryKeys("dw", "g4", "", "No link"), False, Verdict("new", article_id("dw", "g4"))),
    ],
)  # fmt: skip
def test_classify_entry(entry: EntryKeys, shared: bool, expected: Verdict) -> None:
    assert classify_entry(entry, KNOWN, shared_link=shared) == expected


def test_entries_stored_earlier_in_the_pass_count() -> None:
    known = KnownKeys()
    entry = EntryKeys("dw", "g1", "https://ex.org/a", "T", H1)
    assert classify_entry(entry, known).kind == "new"
    known.add(KnownArticle(article_id("dw", "g1"), "dw", "g1", "https://ex.org/a", "T", H1))
    assert classify_entry(entry, known).kind == "seen"


def test_another_feed_linking_the_page_is_seen_whatever_its_date_or_text() -> None:
    when = datetime(2026, 11, 22, tzinfo=UTC)
    stored = KnownArticle("a1", "dw", "g1", "https://ex.org/a", "T", H1, updated_at=when)
    known = KnownKeys.of([stored])
    later = EntryKeys("ap", "x", "https://ex.org/a", "Other", H2, when + timedelta(days=1))
    assert classify_entry(later, known) == Verdict("seen", "a1", "url")
    own = EntryKeys("dw", "g1", "https://ex.org/a", "T", None, when + timedelta(days=1))
    assert classify_entry(own, known) == Verdict("update", "a1", "guid", ("updated_at",))


def test_a_stored_article_is_known_by_its_link_as_well_as_its_page_canonical() -> None:
    stored = KnownArticle(
        "a1", "dw", "urn:1", "https://ex.org/news/a", "T", H1,
        url="http://www.ex.org/a?from=rss&utm_source=x",
    )  # fmt: skip
    known = KnownKeys.of([stored])
    # A headline edit in a feed without guids: a new synthetic guid, the same link.
    edited = EntryKeys("dw", "urn:2", "https://ex.org/a?from=rss", "T edited")
    assert classify_entry(edited, known) == Verdict("update", "a1", "url", ("title",))
    canonical = EntryKeys("ap", "z", "https://ex.org/news/a", "Other")
    assert classify_entry(canonical, known) == Verdict("seen", "a1", "url")


def test_shared_link_is_recognised_from_stored_articles() -> None:
    url = "https://ex.org/"
    known = KnownKeys.of(
        [
            KnownArticle("s1", "f", "1", url, "First", content_hash("first body")),
            KnownArticle("s2", "f", "2", url, "Second", content_hash("second body")),
        ]
    )
    # A later poll with a single new item: the URL still identifies nothing in this feed.
    verdict = classify_entry(EntryKeys("f", "3", url, "Third"), known)
    assert verdict == Verdict("new", article_id("f", "3"))
    # In another feed the URL is still that page.
    assert classify_entry(EntryKeys("g", "9", url, "Link"), known).kind == "seen"
