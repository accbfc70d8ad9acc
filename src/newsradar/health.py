"""Feed health: pure rules for when to poll next, what a failure means, and what to say.

A feed is never disabled for good (Miniflux once stopped polling after 3 errors,
miniflux/v2#3334): each consecutive failure doubles the wait, up to ``max_poll_interval``
(a day by default), and the first success restores the learned interval. The interval is
learned from the feed's own cadence (the gaps between its entries' publication times),
within ``[min_poll_interval, max_poll_interval]``.

    health = next_health(previous, poll, cfg.fetch)      # after each poll
    print(diagnose(row, now))                            # for `newsradar feeds`
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from newsradar.config import FetchSettings
from newsradar.models import FeedPoll, FetchResult

__all__ = [
    "ERROR_CLASSES",
    "FeedHealth",
    "FeedRow",
    "cadence",
    "diagnose",
    "failure_delay",
    "is_silent",
    "next_health",
    "permanent_target",
    "poll_interval",
    "status",
    "worst_first",
]

ERROR_CLASSES = (
    "dns",
    "connect",
    "timeout",
    "deadline_exceeded",
    "tls_error",
    "http_3xx",
    "http_4xx",
    "http_5xx",
    "rate_limited",
    "too_large",
    "not_a_feed",
    "parse_error",
    "parse_timeout",
    "blocked_address",
    "bad_scheme",
    "bad_url",
    "too_many_redirects",
    "decode_error",
    "protocol_error",
    "robots",
    "robots_unavailable",
    "internal_error",
)
# "Silent": nothing new for this many usual gaps, and at least SILENT_MIN.
SILENT_FACTOR = 7
SILENT_MIN = timedelta(days=2)
# Gaps between the most recent entries used to learn the cadence.
CADENCE_SAMPLE = 20


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """The scheduling part of a ``feeds`` row, before and after a poll."""

    url: str
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    # Seconds between polls while the feed is healthy (learned, within the configured bounds).
    poll_interval_s: float | None = None
    # Median gap between the feed's entries, seconds; None until two dated entries were seen.
    cadence_s: float | None = None
    # A permanent redirect target seen on the previous poll (adopted when seen twice in a row).
    redirect_candidate: str | None = None


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One feed as ``newsradar feeds`` shows it."""

    feed_id: str
    url: str
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    http_status: int | None
    error_class: str | None
    error_message: str | None
    consecutive_failures: int
    next_poll_at: datetime | None
    poll_interval_s: float | None
    cadence_s: float | None


def cadence(times: Sequence[datetime]) -> float | None:
    """Median gap in seconds between the most recent distinct publication times."""
    distinct = sorted(set(times), reverse=True)[: CADENCE_SAMPLE + 1]
    gaps = [(a - b).total_seconds() for a, b in zip(distinct, distinct[1:], strict=False)]
    return statistics.median(gaps) if gaps else None


def poll_interval(cadence_s: float | None, settings: FetchSettings) -> float:
    """Poll about twice per usual gap, within the configured bounds."""
    low, high = settings.min_poll_interval, max(settings.max_poll_interval, 1.0)
    wanted = low if cadence_s is None else cadence_s / 2
    return min(max(wanted, low), high)


def failure_delay(failures: int, interval: float, settings: FetchSettings) -> float:
    """Wait after the n-th consecutive failure: doubling from the interval, capped."""
    cap = max(settings.max_poll_interval, settings.min_poll_interval)
    # 2.0**1024 overflows; 2**30 s is past any cap the configuration accepts (a year).
    exponent = min(max(failures - 1, 0), 30)
    return float(min(cap, max(interval, 1.0) * 2.0**exponent))


def permanent_target(url: str, result: FetchResult) -> str | None:
    """Where ``url`` has moved for good: the end of the unbroken chain of 301/308 hops
    that starts at ``url`` (a temporary hop stops the chain). None if it has not moved."""
    current = url
    for source, target in result.permanent_redirects:
        if source != current:
            break
        current = target
    return current if current != url else None


def next_health(previous: FeedHealth, poll: FeedPoll, settings: FetchSettings) -> FeedHealth:
    """The feed's health after ``poll``. Skipped polls change nothing."""
    if poll.outcome == "skipped":
        return previous
    learned = cadence(poll.entry_times)
    cadence_s = learned if learned is not None else previous.cadence_s
    interval = poll_interval(cadence_s, settings)
    if poll.outcome == "failed":
        failures = previous.consecutive_failures + 1
        delay = failure_delay(failures, interval, settings)
        return replace(
            previous,
            consecutive_failures=failures,
            next_poll_at=poll.attempted_at + timedelta(seconds=delay),
            poll_interval_s=interval,
            cadence_s=cadence_s,
        )
    url, candidate = previous.url, None
    if poll.redirect_to:
        if poll.redirect_to == previous.redirect_candidate:
            url = poll.redirect_to  # the second permanent redirect in a row: adopt it
        else:
            candidate = poll.redirect_to
    return FeedHealth(
        url=url,
        consecutive_failures=0,
        next_poll_at=poll.attempted_at + timedelta(seconds=interval),
        poll_interval_s=interval,
        cadence_s=cadence_s,
        redirect_candidate=candidate,
    )


def is_silent(row: FeedRow, now: datetime) -> bool:
    """Nothing new for much longer than the feed's usual cadence."""
    if row.cadence_s is None or row.last_new_item_at is None:
        return False
    quiet = now - row.last_new_item_at
    return quiet > max(SILENT_MIN, timedelta(seconds=row.cadence_s * SILENT_FACTOR))


def status(row: FeedRow, now: datetime) -> str:
    """``never polled``, ``failing``, ``silent`` or ``ok``."""
    if row.last_attempt_at is None:
        return "never polled"
    if row.consecutive_failures:
        return "failing"
    return "silent" if is_silent(row, now) else "ok"


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.0f} days" if hours >= 48 else f"{hours:.0f} h"


_ADVICE = {
    "dns": "the host name does not resolve: check the URL's spelling or whether the site moved",
    "connect": "the server refuses connections: the site may be down; newsradar keeps trying",
    "timeout": "the server does not answer in time: raise [fetch] timeout if it is just slow",
    "deadline_exceeded": "the server sends too slowly: raise [fetch] deadline if it is worth it",
    "tls_error": "its TLS certificate is invalid or expired: tell the site; no insecure fallback",
    "http_3xx": "a redirect without a target: check the URL in a browser",
    "http_5xx": "the server has internal errors: usually temporary; newsradar backs off",
    "rate_limited": "the host asked us to slow down (429): raise [fetch] min_host_delay",
    "too_large": "the feed is over [fetch] max_feed_bytes: raise it or find a smaller feed",
    "not_a_feed": "the URL serves a web page or a file, not a feed: find the feed link on it",
    "parse_error": "the document is not a readable feed: check it in a feed validator",
    "parse_timeout": "the feed takes too long to parse: it may be huge or hostile",
    "blocked_address": "the URL points at a private address: allow it in [fetch] allow_networks",
    "bad_scheme": "only http and https URLs are polled: fix the URL in feeds.toml",
    "bad_url": "the URL is malformed: fix it in feeds.toml",
    "too_many_redirects": "redirects go round in circles: put the final URL in feeds.toml",
    "decode_error": "the server sends a broken compressed body: tell the site",
    "protocol_error": "the server breaks HTTP mid-response: usually temporary",
}


def diagnose(row: FeedRow, now: datetime) -> str:
    """One line saying what is wrong and what to do about it ("" when all is well)."""
    if row.last_attempt_at is None:
        return "not polled yet: run `newsradar run`"
    if row.consecutive_failures:
        kind, code = row.error_class or "", row.http_status
        message = (row.error_message or "").lower()
        if code in (401, 403) and "bot wall" in message:
            advice = f"{code} from a bot wall: try a different User-Agent in feeds.toml"
        elif code in (401, 403):
            advice = f"{code}: the site refuses us; it may need headers (feeds.toml `headers`)"
        elif code in (404, 410):
            advice = f"{code}: the feed is gone; find its new URL or remove it from feeds.toml"
        else:
            advice = _ADVICE.get(kind, f"{kind or 'error'}: see the error message")
        return f"{advice} ({row.consecutive_failures} failures in a row)"
    if is_silent(row, now) and row.last_new_item_at is not None:
        usual = _ago(timedelta(seconds=row.cadence_s or 0))
        return (
            f"silent: nothing new for {_ago(now - row.last_new_item_at)} (usually every "
            f"{usual}); check that the feed URL is still the one the site updates"
        )
    return ""


def worst_first(rows: Sequence[FeedRow], now: datetime) -> list[FeedRow]:
    """Failing feeds first (most failures first), then silent, never polled, healthy."""
    rank = {"failing": 0, "silent": 1, "never polled": 2, "ok": 3}
    return sorted(rows, key=lambda r: (rank[status(r, now)], -r.consecutive_failures, r.feed_id))
