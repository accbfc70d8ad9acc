"""Extraction on pages the project wrote: charsets, metadata, dates, walls, non-HTML."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

import newsradar.extract as extract_module
from newsradar.extract import ExtractedPage, decode_html, extract_page, is_html

PAGES = Path(__file__).parent / "fixtures" / "pages"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
BODY = "<p>" + "Officials met in the capital to discuss the new agreement in detail. " * 6 + "</p>"
GERMAN = (
    "<p>Die NATO-Minister trafen sich in Südbaden und Köln, um über Sicherheit zu reden.</p>" * 8
)
MOSTLY_UTF8 = (
    (GERMAN + "<p>Südbaden und Köln, über Россия</p>").encode().replace(b"NATO-", b"\x96 ", 1)
)


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_public_surface() -> None:
    assert set(extract_module.__all__) == {
        "ExtractedPage",
        "decode_html",
        "extract_page",
        "is_html",
    }


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        # The charset is only in a <meta> tag (newspaper4k#687).
        ("latin1-meta.html", None, "Südbaden"),
        ("latin1-meta.html", "text/html", "Grüße aus Freiburg"),
        ("cp1251-meta.html", None, "Россия"),
        ("cp1251-meta.html", "text/html", "Москва заявила"),
        # A wrong HTTP charset that cannot decode the bytes falls back to the <meta> one.
        ("cp1251-meta.html", "text/html; charset=utf-8", "Россия"),
    ],
)
def test_meta_charset_pages_decode(name: str, content_type: str | None, expected: str) -> None:
    result = extract_page(page(name), "https://example.org/a", content_type=content_type)
    assert expected in result.text
    assert result.status == "ok"
    assert "\ufffd" not in result.text


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Grüße".encode(), None, "Grüße"),
        ("Grüße".encode("utf-8-sig"), "text/html; charset=iso-8859-1", "Grüße"),  # BOM first
        ("Grüße".encode("utf-16"), None, "Grüße"),
        (
            "caf\xe9 \u201cquoted\u201d".encode("cp1252"),
            "text/html; charset=ISO-8859-1",
            "café “quoted”",
        ),
        ("Grüße".encode("latin-1"), "text/html; charset=bogus-charset", "Grüße"),
        (b'<meta charset="utf-16"><p>plain</p>', None, "plain"),  # meta utf-16 means utf-8
        # UTF-8 with one stray cp1252 byte: once handed whole to the detector, which read
        # every letter wrongly ("SΟΦdbaden"), so watches on non-ASCII names missed it.
        (MOSTLY_UTF8, "text/html; charset=utf-8", "Südbaden und Köln, über Россия"),
        (MOSTLY_UTF8, None, "Südbaden und Köln, über Россия"),
        # ... while a page that is cp1252 throughout, labelled UTF-8, is still read as cp1252.
        (GERMAN.encode("cp1252"), "text/html; charset=utf-8", "Südbaden und Köln, um über"),
    ],
)
def test_decode_html(body: bytes, content_type: str | None, expected: str) -> None:
    assert expected in decode_html(body, content_type)


def test_metadata_from_json_ld_and_links() -> None:
    result = extract_page(page("article-jsonld.html"), "https://www.example.com/feed-link", now=NOW)
    assert result.status == "ok", result.reason
    assert result.title == "NATO chief visits Seoul"
    assert result.author == "Jane Doe, Kim Lee"
    assert result.site_name == "Example Times"
    assert result.language == "en"
    # Relative canonical resolved against the page URL, as published (canonicalising is identity's).
    assert (
        result.canonical_url
        == "https://www.example.com/world/2024/05/nato-chief-seoul?utm_source=rss"
    )
    assert result.published_at == datetime(2024, 5, 17, 7, 30, tzinfo=UTC)
    assert (result.published_source, result.date) == ("page", "2024-05-17")
    assert result.updated_at == datetime(2024, 5, 18, 11, 0, tzinfo=UTC)
    assert result.updated_source == "page"
    assert "arms transfers" in result.text
    assert "Copyright Example Times" not in result.text
    assert "Sport" not in result.text


def test_future_date_rejected_and_next_source_used() -> None:
    result = extract_page(page("dated-meta.html"), "https://example.org/news/dated", now=NOW)
    assert result.published_at == datetime(2023, 3, 4, tzinfo=UTC)
    assert result.published_source == "page"
    assert result.updated_at == datetime(2023, 3, 5, 7, 0, tzinfo=UTC)
    assert result.canonical_url == "https://www.example.org/news/dated"  # og:url fallback
    assert result.author == "Max Mustermann"


@pytest.mark.parametrize(
    ("meta", "url", "expected", "source"),
    [
        (
            '<meta property="article:published_time" content="2024-05-01T10:00:00Z">',
            "https://e.org/x",
            datetime(2024, 5, 1, 10, tzinfo=UTC),
            "page",
        ),
        (
            '<meta itemprop="datePublished" content="2024-05-02">',
            "https://e.org/x",
            datetime(2024, 5, 2, tzinfo=UTC),
            "page",
        ),
        ("", "https://e.org/2024/05/03/story", datetime(2024, 5, 3, tzinfo=UTC), "url"),
        (
            '<meta name="date" content="1970-01-01">',
            "https://e.org/2024/05/04/x",
            datetime(2024, 5, 4, tzinfo=UTC),
            "url",
        ),
        ('<meta name="date" content="2099-12-31">', "https://e.org/x", None, None),
        ('<meta name="date" content="not a date">', "https://e.org/x", None, None),
    ],
)
def test_published_date_sources(
    meta: str, url: str, expected: datetime | None, source: str | None
) -> None:
    html = f"<html><head>{meta}</head><body><article>{BODY}</article></body></html>"
    result = extract_page(html.encode(), url, now=NOW)
    assert (result.published_at, result.published_source) == (expected, source)


@pytest.mark.parametrize(
    ("ld", "published", "updated"),
    [
        # Values that are not plain strings once raised AttributeError, and the page was
        # stored as extract_error with the feed's summary instead of its body.
        ('{"@type": "NewsArticle", "datePublished": ["2024-05-02"]}', datetime(2024, 5, 2), None),
        ('{"@type": "NewsArticle", "datePublished": {"@value": "2024-05-02"}}', None, None),
        ('{"@type": "NewsArticle", "datePublished": 5, "dateModified": null}', None, None),
        (
            '{"@type": "NewsArticle", "datePublished": "2024-05-02",'
            ' "dateModified": [7, "2024-05-03"]}',
            datetime(2024, 5, 2),
            datetime(2024, 5, 3),
        ),
        (
            '{"@type": ["NewsArticle", 5], "datePublished": "2024-05-02"}',
            datetime(2024, 5, 2),
            None,
        ),
        (
            '{"@type": {"name": "NewsArticle"}, "datePublished": "2024-05-02"}',
            datetime(2024, 5, 2),
            None,
        ),
    ],
)
def test_odd_json_ld_values_do_not_lose_the_body(
    ld: str, published: datetime | None, updated: datetime | None
) -> None:
    script = f'<script type="application/ld+json">{ld}</script>'
    html = f"<html><head>{script}</head><body><article>{BODY}</article></body></html>"
    result = extract_page(html.encode(), "https://e.org/x", now=NOW)
    assert result.status == "ok" and "Officials met" in result.text
    as_utc = (d and d.replace(tzinfo=UTC) for d in (published, updated))
    assert (result.published_at, result.updated_at) == tuple(as_utc)


def test_json_ld_nested_too_deeply_is_skipped_not_the_body() -> None:
    # A few KB of nesting made json.loads raise RecursionError: extract_error, body lost.
    deep = '{"a": ' * 5000 + "1" + "}" * 5000
    script = f'<script type="application/ld+json">{deep}</script>'
    good = '<script type="application/ld+json">{"datePublished": "2024-05-02"}</script>'
    html = f"<html><head>{script}{good}</head><body><article>{BODY}</article></body></html>"
    result = extract_page(html.encode(), "https://e.org/x", now=NOW)
    assert result.status == "ok" and "Officials met" in result.text
    assert result.published_at == datetime(2024, 5, 2, tzinfo=UTC)


def test_time_element_with_pubdate() -> None:
    time_el = '<time pubdate datetime="2024-04-30T06:00Z">x</time>'
    html = f"<html><body><article>{time_el}{BODY}</article></body></html>"
    result = extract_page(html, "https://e.org/x", now=NOW)
    assert result.published_at == datetime(2024, 4, 30, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("consent-wall.html", "consent_wall"),
        ("paywall.html", "paywall"),
        ("js-only.html", "javascript_required"),
    ],
)
def test_walls_are_partial_text(name: str, reason: str) -> None:
    result = extract_page(page(name), "https://example.org/a")
    assert (result.status, result.reason) == ("partial_text", reason)


def test_short_and_empty_pages() -> None:
    short = extract_page(
        "<html><body><article><p>Just a teaser line here.</p></article></body></html>"
    )
    assert (short.status, short.reason) == ("partial_text", "too_short")
    assert extract_page(b"").reason == "empty"
    assert extract_page(b"   ").reason == "empty"
    assert extract_page(f"<html><body>{BODY}</body></html>", min_chars=10_000).reason == "too_short"


def test_long_article_about_cookies_is_not_a_wall() -> None:
    text = "The bakery sold cookies and asked customers to accept the new prices. " * 40
    result = extract_page(f"<html><body><article><p>{text}</p></article></body></html>")
    assert result.status == "ok"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"%PDF-1.7\n1 0 obj", "application/pdf"),
        (b"%PDF-1.7\n1 0 obj", None),  # sniffed
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"PK\x03\x04\x14\x00", "text/html"),  # a lying header
        (b"<html><body>x</body></html>", "application/octet-stream"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
    ],
)
def test_non_html_is_unsupported(body: bytes, content_type: str | None) -> None:
    assert not is_html(body, content_type)
    result = extract_page(body, "https://e.org/file", content_type=content_type)
    assert result.status == "unsupported_content_type"
    assert result.text == ""


def test_xml_declaration_and_garbage_do_not_raise() -> None:
    xhtml = (
        f'<?xml version="1.0" encoding="utf-8"?><html><body><article>{BODY}</article></body></html>'
    )
    assert "Officials met" in extract_page(xhtml.encode(), "https://e.org/x").text
    assert extract_page(bytes(range(256)) * 10, "https://e.org/x").status == "partial_text"


def test_canonical_ignores_non_http() -> None:
    link = '<link rel="canonical" href="javascript:alert(1)">'
    html = f"<html><head>{link}</head><body>{BODY}</body></html>"
    assert extract_page(html, "https://e.org/x").canonical_url is None


def test_canonical_ignores_unparseable_url() -> None:
    link = '<link rel="canonical" href="http://[::1/x">'
    html = f"<html><head>{link}</head><body>{BODY}</body></html>"
    page = extract_page(html, "https://e.org/x")
    assert page.canonical_url is None and "Officials met" in page.text


def test_result_pickles() -> None:
    result = extract_page(page("article-jsonld.html"), "https://www.example.com/a", now=NOW)
    assert isinstance(result, ExtractedPage)
    assert pickle.loads(pickle.dumps(result)) == result


def test_parsed_elements_skip_lxml_html_python_class_lookup() -> None:
    # The C-level lookup gives form controls no class of their own (lxml.html's Python
    # callback would return InputElement); the page's text is unaffected.
    from lxml.html import HtmlElement
    from trafilatura.utils import load_html

    page = (
        b"<html><body><form><input name='q'><select><option>a</option></select></form>"
        + b"<article>"
        + b"".join(
            b"<p>On day %d the ministers met in Brussels to agree on the alliance's next steps.</p>"
            % day
            for day in range(5)
        )
        + b"</article></body></html>"
    )
    tree = load_html(page.decode())
    assert tree is not None
    assert {type(el) for el in tree.iter("input", "select", "option", "p")} == {HtmlElement}
    assert extract_page(page).text.count("the ministers met in Brussels") == 5
