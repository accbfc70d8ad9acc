"""Trustworthy dates: parse what feeds and pages claim, reject the impossible, say where from.

Pure functions. A date is kept only when it lies between 1990-01-01 and "now" (plus a skew of
14 hours, so a date-only value from a UTC+14 site is not "in the future"); naive values are UTC.

    >>> from datetime import UTC, datetime
    >>> choose_dates(None, None, parse_date("2024-05-17T09:00:00+02:00"), "page", None, None,
    ...              now=datetime(2024, 6, 1, tzinfo=UTC)).published_source
    'page'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = [
    "EARLIEST",
    "FUTURE_SKEW",
    "ArticleDates",
    "choose_dates",
    "parse_date",
    "plausible",
    "url_date",
]

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# A date-only value is midnight UTC; in UTC+14 that day starts 14 hours earlier.
FUTURE_SKEW = timedelta(hours=14)

_ISO = re.compile(
    r"^\s*(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T\s](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?"
)
# /2024/05/17/, /2024-05-17-, _20240517_ in a URL path.
_URL_DATE = re.compile(
    r"(?<![0-9])((?:19|20)\d{2})([/_-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?![0-9])"
)
_URL_DATE_SLASH = re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$)")


def parse_date(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601 (full or date-only) or RFC 2822 text; else None."""
    if not value:
        return None
    text = value.strip()
    match = _ISO.match(text)
    if match:
        year, month, day, hour, minute, second, zone = match.groups()
        try:
            dt = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            return None
        return dt.replace(tzinfo=_zone(zone))
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _zone(zone: str | None) -> timezone:
    if not zone or zone in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
    if offset >= timedelta(hours=24):
        return UTC
    return timezone(sign * offset)


def plausible(dt: datetime | None, now: datetime) -> datetime | None:
    """``dt`` in UTC when it lies between 1990 and now (+ skew); None otherwise."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if dt < EARLIEST or dt > now + FUTURE_SKEW:
        return None
    return dt.astimezone(UTC)


def url_date(url: str | None) -> datetime | None:
    """The date a URL path spells out (``/2024/05/17/``, ``-20240517-``), if any."""
    if not url:
        return None
    path = url.split("?", 1)[0].split("#", 1)[0]
    path = path.split("://", 1)[-1].partition("/")[2]
    for pattern in (_URL_DATE_SLASH, _URL_DATE):
        for match in pattern.finditer("/" + path):
            groups = match.groups()
            year, month, day = groups[0], groups[-2], groups[-1]
            try:
                return datetime(int(year), int(month), int(day), tzinfo=UTC)
            except ValueError:
                continue
    return None


@dataclass(frozen=True, slots=True)
class ArticleDates:
    """The dates an article is stored with, and where each came from."""

    published_at: datetime | None
    # "feed", "page" or "url"; None when no plausible date was found.
    published_source: str | None
    updated_at: datetime | None
    updated_source: str | None
    # "date_rejected" when some source claimed an impossible date.
    flags: tuple[str, ...] = ()


def choose_dates(
    feed_published: datetime | None,
    feed_updated: datetime | None,
    page_published: datetime | None,
    page_published_source: str | None,
    page_updated: datetime | None,
    page_updated_source: str | None,
    *,
    now: datetime | None = None,
) -> ArticleDates:
    """Prefer the feed's dates, then the page's; drop future and pre-1990 values."""
    now = now or datetime.now(UTC)
    claimed = [feed_published, feed_updated, page_published, page_updated]
    candidates_pub = [
        (plausible(feed_published, now), "feed"),
        (plausible(page_published, now), page_published_source or "page"),
    ]
    candidates_upd = [
        (plausible(feed_updated, now), "feed"),
        (plausible(page_updated, now), page_updated_source or "page"),
    ]
    published, pub_source = next(((d, s) for d, s in candidates_pub if d), (None, None))
    updated, upd_source = next(((d, s) for d, s in candidates_upd if d), (None, None))
    if published and updated and updated < published:
        # An "update" before publication is a stale modified tag; it says nothing.
        updated, upd_source = None, None
    rejected = any(d is not None and plausible(d, now) is None for d in claimed)
    return ArticleDates(
        published, pub_source, updated, upd_source, ("date_rejected",) if rejected else ()
    )
