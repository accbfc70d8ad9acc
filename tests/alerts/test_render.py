"""Rendered digests: golden strings, and hostile article text that must arrive inert."""

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsradar.alerts.digest import Segment, safe_url, segments, subject_for
from newsradar.alerts.render import render_digest
from tests.alerts.support import sample_digest

GOLDEN = Path(__file__).parent / "golden"

TEXT = """\
newsradar: 2 stories for NATO, North Korea

== NATO ==

* Stoltenberg: *NATO* partners must stand firm on *North Korea*
  World Wire · 2026-11-29 07:15 CET · matched: NATO, North Korea
  https://news.example.org/nato-seoul
  > Speaking in Seoul, Stoltenberg said *NATO* and its Asian partners face a
    *North Korea* that supplies artillery shells to Russia, and urged …
  Also in: The Daily Planet <https://daily.example.org/seoul>

* Breaking Bcc: victim@example.org <script>alert('title')</script> *NATO*
  summit
  Evil <b>Outlet</b> · 2026-11-29 06:15 CET · matched: NATO
  > <script>document.body.setAttribute('data-pwned','1')</script> Officials
    said *NATO* would respond. <img src=x
    onerror="document.body.setAttribute('data-pwned2','1')"> Click <a …
  Also in: Mirror "Site" <https://ok.example.org/%22%3E%3Cscript%3Ealert(2)%3C/script%3E>

--
Sent by newsradar to analyst@example.org · digest 793b5d836003fd90af6d
"""


def test_text_part_matches_the_golden_string() -> None:
    text, _ = render_digest(sample_digest())
    assert text == TEXT


def test_html_part_matches_the_golden_file() -> None:
    _, html = render_digest(sample_digest())
    golden = GOLDEN / "digest.html"
    if os.environ.get("NEWSRADAR_UPDATE_GOLDEN"):
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_hostile_markup_arrives_escaped_and_only_http_links_survive() -> None:
    """RELIABILITY F38: <script>, <img onerror>, javascript: links."""
    _, html = render_digest(sample_digest())
    parser = _Tags()
    parser.feed(html)
    allowed = {"html", "head", "meta", "title", "body", "div", "h1", "h2", "h3", "p", "a",
               "mark", "strong", "span"}  # fmt: skip
    assert {tag for tag, _ in parser.tags} <= allowed
    attributes = {name for _, attrs in parser.tags for name in attrs}
    assert not any(name.startswith("on") for name in attributes)
    hrefs = [attrs["href"] or "" for tag, attrs in parser.tags if tag == "a"]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    # The hostile text is still there, as text a reader can see.
    shown = "".join(parser.text)
    assert "<script>document.body.setAttribute('data-pwned','1')</script>" in shown
    assert "javascript:" not in " ".join(hrefs)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1#c", "https://example.org/a?b=1#c"),
        ("HTTP://example.org/", "HTTP://example.org/"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:x", None),
        ("//example.org/protocol-relative", None),
        ("https:///no-host", None),
        ("https://exa mple.org/", None),
        ("https://example.org/\r\nX: y", None),
        ("https://example.org/\u202etxt.exe", None),
        ('https://example.org/"><b>', "https://example.org/%22%3E%3Cb%3E"),
        # An IDN host in its xn-- form (a percent-encoded host is not resolved by mail
        # clients); the path keeps percent-encoding, the port and user info stay.
        ("https://bücher.example/über?q=ä", "https://xn--bcher-kva.example/%C3%BCber?q=%C3%A4"),
        ("https://Bücher.example:8443/a", "https://xn--bcher-kva.example:8443/a"),
        ("http://u@例え.jp/記事", "http://u@xn--r8jz45g.jp/%E8%A8%98%E4%BA%8B"),
        ("https://☃‍.example/", None),
        ("", None),
        (None, None),
    ],
)
def test_only_absolute_http_urls_are_linked(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


TEXT_WITH_TWO = "alpha beta gamma NATO delta epsilon NATO zeta eta theta iota kappa lambda mu"


def test_a_mention_inside_a_snippet_is_highlighted_there() -> None:
    (only,) = segments(TEXT_WITH_TWO, [(17, 21), (36, 40)], 60)
    assert only == (
        Segment("alpha beta gamma "),
        Segment("NATO", hit=True),
        Segment(" delta epsilon "),
        Segment("NATO", hit=True),
        Segment(" zeta eta …"),
    )


def test_snippets_do_not_overlap_and_cut_at_words() -> None:
    first, second = segments(TEXT_WITH_TWO, [(17, 21), (36, 40)], 30)
    assert first == (
        Segment("… beta gamma "),
        Segment("NATO", hit=True),
        Segment(" delta epsilon …"),
    )
    assert second == (Segment("… "), Segment("NATO", hit=True), Segment(" zeta eta …"))


@pytest.mark.parametrize(
    ("count", "watches", "subject"),
    [
        (1, ["NATO"], "newsradar: 1 story for NATO"),
        (3, ["NATO", "North Korea"], "newsradar: 3 stories for NATO, North Korea"),
        (9, ["A", "B", "C", "D", "E"], "newsradar: 9 stories for A, B, C and 2 more"),
        (2, ["Evil\r\nBcc: x@example.org"], "newsradar: 2 stories for Evil Bcc: x@example.org"),
    ],
)
def test_subject_says_how_many_stories_for_which_watches(
    count: int, watches: list[str], subject: str
) -> None:
    assert subject_for(count, watches) == subject
