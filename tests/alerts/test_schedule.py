from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from newsradar.alerts.schedule import (
    Delivery,
    delivery_for,
    next_due,
    parse_delivery,
    parse_timezone,
    retry_delay,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("immediate", Delivery("immediate")),
        ("hourly", Delivery("hourly")),
        ("daily", Delivery("daily", time(7, 0))),
        ("daily at 18:30", Delivery("daily", time(18, 30))),
        ("  Daily   AT 6:05 ", Delivery("daily", time(6, 5))),
        ("weekly", Delivery("weekly", time(7, 0), 0)),
        ("weekly on friday at 16:00", Delivery("weekly", time(16, 0), 4)),
        ("weekly at 09:00", Delivery("weekly", time(9, 0), 0)),
    ],
)
def test_delivery_modes_parse(text: str, expected: Delivery) -> None:
    assert parse_delivery(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("sometimes", "is not a delivery mode"),
        ("daily at 25:00", "not a time of day"),
        ("daily at 7:60", "not a time of day"),
        ("hourly at 10:00", "only daily and weekly"),
        ("daily on monday", "only weekly"),
        ("weekly on funday", "not a day"),
        ("", "is not a delivery mode"),
    ],
)
def test_bad_delivery_modes_say_what_is_accepted(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_delivery(text)


BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mode", "after", "tz", "due"),
    [
        ("immediate", utc(2026, 11, 29, 7, 13), BERLIN, utc(2026, 11, 29, 7, 13)),
        ("hourly", utc(2026, 11, 29, 7, 13), BERLIN, utc(2026, 11, 29, 8, 0)),
        ("hourly", utc(2026, 11, 29, 8, 0), BERLIN, utc(2026, 11, 29, 8, 0)),
        # Half-hour zone: the top of the local hour is :30 UTC.
        ("hourly", utc(2026, 11, 29, 7, 13), KOLKATA, utc(2026, 11, 29, 7, 30)),
        # Winter: 07:00 in Berlin is 06:00 UTC; already past today -> tomorrow.
        ("daily at 07:00", utc(2026, 11, 29, 5, 0), BERLIN, utc(2026, 11, 29, 6, 0)),
        ("daily at 07:00", utc(2026, 11, 29, 6, 1), BERLIN, utc(2026, 11, 30, 6, 0)),
        # Across the spring DST change (29 March 2026): 07:00 becomes 05:00 UTC.
        ("daily at 07:00", utc(2026, 3, 28, 7, 0), BERLIN, utc(2026, 3, 29, 5, 0)),
        # A slot inside the DST gap (02:30 does not exist that night) lands once, at 03:30.
        ("daily at 02:30", utc(2026, 3, 29, 0, 0), BERLIN, utc(2026, 3, 29, 1, 30)),
        # 2026-11-29 is a Sunday: next Monday 07:00 Berlin.
        ("weekly", utc(2026, 11, 29, 7, 0), BERLIN, utc(2026, 11, 30, 6, 0)),
        ("weekly on sunday at 09:00", utc(2026, 11, 29, 7, 0), BERLIN, utc(2026, 11, 29, 8, 0)),
        ("weekly on sunday at 07:00", utc(2026, 11, 29, 7, 0), BERLIN, utc(2026, 12, 6, 6, 0)),
    ],
)
def test_next_due_in_the_configured_time_zone(
    mode: str, after: datetime, tz: ZoneInfo, due: datetime
) -> None:
    assert next_due(parse_delivery(mode), after, tz) == due


def test_watch_mode_beats_recipient_mode_beats_default() -> None:
    by = {"boss@example.org": "weekly"}
    assert delivery_for("boss@example.org", "hourly", by, "daily").every == "hourly"
    assert delivery_for("boss@example.org", None, by, "daily").every == "weekly"
    assert delivery_for("analyst@example.org", None, by, "daily").every == "daily"


def test_retry_backoff_doubles_and_is_capped_but_never_stops() -> None:
    delays = [retry_delay(n, 300, 3600) for n in (1, 2, 3, 4, 5, 50)]
    assert delays == [timedelta(seconds=s) for s in (300, 600, 1200, 2400, 3600, 3600)]


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="IANA"):
        parse_timezone("Mars/Olympus")
