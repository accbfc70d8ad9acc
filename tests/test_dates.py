"""Dates: parsing, plausibility (1990..now) and the feed-first choice with sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsradar.dates import EARLIEST, choose_dates, parse_date, plausible, url_date

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-17", datetime(2024, 5, 17, tzinfo=UTC)),
        ("2024-05-17T09:30:00Z", datetime(2024, 5, 17, 9, 30, tzinfo=UTC)),
        ("2024-05-17T09:30:00.123+02:00", datetime(2024, 5, 17, 7, 30, tzinfo=UTC)),
        ("2024-05-17 09:30", datetime(2024, 5, 17, 9, 30, tzinfo=UTC)),
        ("20240517", datetime(2024, 5, 17, tzinfo=UTC)),
        ("Fri, 17 May 2024 09:30:00 GMT", datetime(2024, 5, 17, 9, 30, tzinfo=UTC)),
        ("Fri, 17 May 2024 09:30:00 -0500", datetime(2024, 5, 17, 14, 30, tzinfo=UTC)),
        ("2024-02-30", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("dt", "kept"),
    [
        (datetime(2024, 5, 17, tzinfo=UTC), True),
        (EARLIEST, True),
        (datetime(1989, 12, 31, tzinfo=UTC), False),
        (datetime(1970, 1, 1, tzinfo=UTC), False),
        (datetime(2099, 1, 1, tzinfo=UTC), False),
        # A date-only value for "tomorrow" in UTC+14 is still today somewhere.
        (NOW + timedelta(hours=13), True),
        (NOW + timedelta(days=2), False),
        (datetime(2024, 5, 17, 12, 0), True),  # naive means UTC
    ],
)
def test_plausible(dt: datetime, kept: bool) -> None:
    assert (plausible(dt, NOW) is not None) is kept


def test_plausible_returns_utc() -> None:
    cet = datetime(2024, 5, 17, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert plausible(cet, NOW) == datetime(2024, 5, 17, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ex.org/2024/05/17/slug", datetime(2024, 5, 17, tzinfo=UTC)),
        ("https://ex.org/news/2024/5/7/slug", datetime(2024, 5, 7, tzinfo=UTC)),
        ("https://ex.org/a/slug-2023-12-01.html", datetime(2023, 12, 1, tzinfo=UTC)),
        ("https://ex.org/a/story_20230102_x", datetime(2023, 1, 2, tzinfo=UTC)),
        ("https://ex.org/a/12345678901", None),
        ("https://2024.ex.org/05/17/", None),  # the host is not the path
        ("https://ex.org/2024/13/40/", None),
        ("https://ex.org/p?d=2024-05-17", None),  # query strings are not dates of the page
        (None, None),
    ],
)
def test_url_date(url: str | None, expected: datetime | None) -> None:
    assert url_date(url) == expected


FEED = datetime(2024, 5, 17, 8, 0, tzinfo=UTC)
PAGE = datetime(2024, 5, 17, 7, 0, tzinfo=UTC)
LATER = datetime(2024, 5, 18, 7, 0, tzinfo=UTC)
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
ANCIENT = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("feed_pub", "feed_upd", "page_pub", "page_src", "page_upd", "expected"),
    [
        # The feed's date wins when present.
        (FEED, None, PAGE, "page", None, (FEED, "feed", None, None, ())),
        (None, None, PAGE, "page", LATER, (PAGE, "page", LATER, "page", ())),
        (None, None, PAGE, "url", None, (PAGE, "url", None, None, ())),
        # An impossible feed date is rejected and flagged; the page's date is used.
        (FUTURE, None, PAGE, "page", None, (PAGE, "page", None, None, ("date_rejected",))),
        (ANCIENT, None, None, None, None, (None, None, None, None, ("date_rejected",))),
        (FEED, LATER, None, None, FUTURE, (FEED, "feed", LATER, "feed", ("date_rejected",))),
        # An update before publication is a stale tag.
        (LATER, None, None, None, PAGE, (LATER, "feed", None, None, ())),
        (None, None, None, None, None, (None, None, None, None, ())),
    ],
)
def test_choose_dates(
    feed_pub: datetime | None,
    feed_upd: datetime | None,
    page_pub: datetime | None,
    page_src: str | None,
    page_upd: datetime | None,
    expected: tuple[object, ...],
) -> None:
    got = choose_dates(
        feed_pub, feed_upd, page_pub, page_src, page_upd, "page" if page_upd else None, now=NOW
    )
    assert (
        got.published_at,
        got.published_source,
        got.updated_at,
        got.updated_source,
        got.flags,
    ) == expected
