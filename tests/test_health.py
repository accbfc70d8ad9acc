"""Feed health rules: back-off that never gives up, learned intervals, silence, diagnosis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsradar.config import FetchSettings
from newsradar.health import (
    FeedHealth,
    FeedRow,
    cadence,
    diagnose,
    failure_delay,
    is_silent,
    next_health,
    permanent_target,
    poll_interval,
    status,
    worst_first,
)
from newsradar.models import FeedPoll, FetchResult

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
S = FetchSettings(min_poll_interval=300, max_poll_interval=86_400)


def fail(at: datetime = NOW, kind: str = "http_5xx") -> FeedPoll:
    return FeedPoll("f", at, "failed", 503, error_class=kind, error_message="answered 503")


def test_failures_back_off_to_a_daily_cap_and_recover_on_success() -> None:
    health = FeedHealth(url="https://x.org/feed", poll_interval_s=600)
    waits = []
    for n in range(12):
        at = NOW + timedelta(days=n)
        health = next_health(health, fail(at), S)
        assert health.next_poll_at is not None  # never disabled for good
        waits.append((health.next_poll_at - at).total_seconds())
    assert health.consecutive_failures == 12
    assert waits[:4] == [300, 600, 1200, 2400]
    assert waits == sorted(waits) and max(waits) == 86_400
    ok = next_health(health, FeedPoll("f", NOW, "not_modified", 304), S)
    assert ok.consecutive_failures == 0
    assert ok.next_poll_at == NOW + timedelta(seconds=300)


@pytest.mark.parametrize(
    ("gaps_h", "expected_interval"),
    [
        ([0.1] * 10, 300.0),  # busier than the floor: polled at the floor
        ([2] * 10, 3600.0),  # every 2 h: polled hourly
        ([1, 2, 2, 2, 30], 3600.0),  # the median ignores one long gap
        ([72] * 5, 86_400.0),  # quiet: capped at once a day
        ([], 300.0),  # unknown cadence: the floor
    ],
)
def test_poll_interval_follows_the_feeds_cadence(
    gaps_h: list[float], expected_interval: float
) -> None:
    times = [NOW]
    for gap in gaps_h:
        times.append(times[-1] - timedelta(hours=gap))
    assert poll_interval(cadence(times), S) == expected_interval


def test_learned_cadence_is_kept_when_a_poll_brings_no_dates() -> None:
    times = tuple(NOW - timedelta(hours=4 * n) for n in range(6))
    learned = next_health(FeedHealth("u"), FeedPoll("f", NOW, "ok", 200, entry_times=times), S)
    assert learned.cadence_s == 4 * 3600 and learned.poll_interval_s == 2 * 3600
    again = next_health(learned, FeedPoll("f", NOW, "not_modified", 304), S)
    assert (again.cadence_s, again.poll_interval_s) == (learned.cadence_s, 7200)


def test_failure_delay_is_capped_even_with_a_long_interval() -> None:
    assert failure_delay(1, 86_400, S) == 86_400
    assert failure_delay(30, 300, S) == 86_400


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (S, 86_400.0),
        # 0/0 makes a dead feed fail on every pass: 1025 failures in under 11 days.
        (FetchSettings(min_poll_interval=0, max_poll_interval=0), 0.0),
        (FetchSettings(min_poll_interval=31_622_400, max_poll_interval=31_622_400), 31_622_400.0),
    ],
)
@pytest.mark.parametrize("failures", [1025, 10**6])
def test_failure_delay_survives_any_number_of_failures(
    settings: FetchSettings, expected: float, failures: int
) -> None:
    # 2.0 ** 1024 raised OverflowError: the pass crashed on every feed that failed that often.
    assert failure_delay(failures, 300, settings) == expected


def _result(*hops: tuple[str, str]) -> FetchResult:
    return FetchResult("a", hops[-1][1] if hops else "a", 200, {}, b"", permanent_redirects=hops)


@pytest.mark.parametrize(
    ("hops", "target"),
    [
        ((("a", "b"), ("b", "c")), "c"),  # 301 -> 301 -> 200
        ((("a", "b"),), "b"),
        ((), None),  # 302/307 only: never moves
        ((("x", "y"),), None),  # a permanent hop after a temporary one: not ours to adopt
    ],
)
def test_permanent_target(hops: tuple[tuple[str, str], ...], target: str | None) -> None:
    assert permanent_target("a", _result(*hops)) == target


def test_url_moves_only_after_two_consecutive_permanent_redirects() -> None:
    h = FeedHealth(url="a")
    moved = FeedPoll("f", NOW, "ok", 200, redirect_to="b")
    still = FeedPoll("f", NOW, "ok", 200)
    h1 = next_health(h, moved, S)
    assert (h1.url, h1.redirect_candidate) == ("a", "b")
    assert next_health(h1, still, S).redirect_candidate is None  # not consecutive: forgotten
    h2 = next_health(h1, moved, S)
    assert (h2.url, h2.redirect_candidate) == ("b", None)
    # A failure in between keeps the candidate (nothing contradicted it).
    assert next_health(h1, fail(), S).redirect_candidate == "b"


def row(**kw: object) -> FeedRow:
    base: dict[str, object] = {
        "feed_id": "f", "url": "https://x.org/feed", "last_attempt_at": NOW,
        "last_success_at": NOW, "last_new_item_at": NOW, "http_status": 200,
        "error_class": None, "error_message": None, "consecutive_failures": 0,
        "next_poll_at": NOW, "poll_interval_s": 3600.0, "cadence_s": 7200.0,
    }  # fmt: skip
    base.update(kw)
    return FeedRow(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        (
            {"http_status": 403, "error_class": "http_4xx", "consecutive_failures": 3,
             "error_message": "http_4xx: u: answered 403 from a bot wall (Cloudflare)"},
            "403 from a bot wall: try a different User-Agent in feeds.toml",
        ),
        ({"http_status": 410, "error_class": "http_4xx", "consecutive_failures": 1}, "gone"),
        ({"error_class": "blocked_address", "consecutive_failures": 1}, "allow_networks"),
        ({"error_class": "not_a_feed", "consecutive_failures": 2}, "find the feed link"),
        ({"error_class": "timeout", "consecutive_failures": 2}, "[fetch] timeout"),
        ({"error_class": "tls_error", "consecutive_failures": 1}, "certificate"),
        ({"last_new_item_at": NOW - timedelta(days=9)}, "silent: nothing new for 9 days"),
        ({"last_attempt_at": None}, "not polled yet"),
        ({}, ""),
    ],
)  # fmt: skip
def test_diagnosis_says_what_to_do(fields: dict[str, object], needle: str) -> None:
    text = diagnose(row(**fields), NOW)
    assert needle in text if needle else text == ""


@pytest.mark.parametrize(
    ("last_new", "cadence_s", "silent"),
    [
        (NOW - timedelta(days=3), 3600.0, True),  # hourly feed quiet for 3 days
        (NOW - timedelta(days=1), 3600.0, False),  # under the 2-day minimum
        (NOW - timedelta(days=10), 2 * 86_400.0, False),  # a slow feed being slow
        (NOW - timedelta(days=15), 2 * 86_400.0, True),
        (None, 3600.0, False),
        (NOW - timedelta(days=30), None, False),  # no cadence learned yet
    ],
)
def test_silent_means_much_longer_than_usual(
    last_new: datetime | None, cadence_s: float | None, silent: bool
) -> None:
    assert is_silent(row(last_new_item_at=last_new, cadence_s=cadence_s), NOW) is silent


def test_worst_first() -> None:
    rows = [
        row(feed_id="fine"),
        row(feed_id="new", last_attempt_at=None),
        row(feed_id="quiet", last_new_item_at=NOW - timedelta(days=30)),
        row(feed_id="bad", consecutive_failures=2, error_class="timeout"),
        row(feed_id="worse", consecutive_failures=9, error_class="dns"),
    ]
    ordered = [r.feed_id for r in worst_first(rows, NOW)]
    assert ordered == ["worse", "bad", "quiet", "new", "fine"]
    assert [status(r, NOW) for r in worst_first(rows, NOW)][:3] == ["failing", "failing", "silent"]
