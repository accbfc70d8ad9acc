"""build_article: the canonical URL an article is stored under comes from the page reached."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsradar.articles import build_article
from newsradar.extract import ExtractedPage
from newsradar.models import FeedEntry, FetchResult

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BODY = "Officials met in the harbour town on Monday to agree the new ferry timetable."


def entry(url: str) -> FeedEntry:
    return FeedEntry("wire", "guid-1", url, url, "Ferry timetable agreed", "Summary.")


@pytest.mark.parametrize(
    ("link", "final_url", "page_canonical", "expected"),
    [
        # The page reached through a redirector names its own site's URL: trusted.
        ("https://feeds.example/r/1", "https://ex.org/a", "https://ex.org/story",
         "https://ex.org/story"),
        # An open redirect on ex.org leads to evil.net, whose page claims ex.org's article:
        # the claim is judged against evil.net (where the text came from) and refused.
        ("https://ex.org/go?to=1", "https://evil.net/p", "https://ex.org/story",
         "https://ex.org/go?to=1"),
        ("https://partner.net/x", "https://partner.net/x", "https://ex.org/story",
         "https://partner.net/x"),
    ],
)  # fmt: skip
def test_canonical_is_judged_against_the_final_url(
    link: str, final_url: str, page_canonical: str, expected: str
) -> None:
    page = FetchResult(link, final_url, 200, {"content-type": "text/html"}, b"<html></html>")
    extracted = ExtractedPage(text=BODY, canonical_url=page_canonical)

    article, _ = build_article(entry(link), page, extracted, NOW)

    assert article.canonical_url == expected
    assert article.url == link
