"""When an alert is due: delivery modes and retry back-off, in a configured time zone.

A delivery mode is one of::

    immediate                      every pass
    hourly                         at the top of each hour (local time)
    daily [at HH:MM]               once a day, 07:00 unless said otherwise
    weekly [on DAY] [at HH:MM]     once a week, Monday 07:00 unless said otherwise

    >>> mode = parse_delivery("daily at 07:30")
    >>> next_due(mode, datetime(2026, 3, 29, 8, 0, tzinfo=UTC), ZoneInfo("Europe/Berlin"))
    datetime.datetime(2026, 3, 30, 5, 30, tzinfo=datetime.timezone.utc)

A mode is chosen per (recipient, watch): the watch's ``delivery``, else the recipient's entry in
``[alerts] delivery_by_recipient``, else ``[alerts] delivery``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Delivery",
    "delivery_for",
    "next_due",
    "parse_delivery",
    "parse_timezone",
    "retry_delay",
]

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DEFAULT_AT = time(7, 0)
_MODE = re.compile(
    r"^(?P<every>immediate|hourly|daily|weekly)"
    r"(?:\s+on\s+(?P<day>[a-z]+))?"
    r"(?:\s+at\s+(?P<hh>\d{1,2}):(?P<mm>\d{2}))?$"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A parsed delivery mode."""

    every: Literal["immediate", "hourly", "daily", "weekly"]
    # Local wall-clock time of a daily or weekly digest.
    at: time = _DEFAULT_AT
    # 0 = Monday, for weekly digests.
    weekday: int = 0


def parse_delivery(text: str) -> Delivery:
    """Parse a delivery mode; ``ValueError`` says what is accepted."""
    found = _MODE.match(" ".join(text.lower().split()))
    usage = "use 'immediate', 'hourly', 'daily at HH:MM' or 'weekly on monday at HH:MM'"
    if not found:
        raise ValueError(f"{text!r} is not a delivery mode; {usage}")
    every = found["every"]
    day, hh, mm = found["day"], found["hh"], found["mm"]
    if day is not None and every != "weekly":
        raise ValueError(f"{text!r}: only weekly digests take a day; {usage}")
    if hh is not None and every in ("immediate", "hourly"):
        raise ValueError(f"{text!r}: only daily and weekly digests take a time; {usage}")
    at = _DEFAULT_AT
    if hh is not None:
        if int(hh) > 23 or int(mm) > 59:
            raise ValueError(f"{text!r}: {hh}:{mm} is not a time of day (00:00 to 23:59)")
        at = time(int(hh), int(mm))
    weekday = 0
    if day is not None:
        if day not in _DAYS:
            raise ValueError(f"{text!r}: {day!r} is not a day; use monday ... sunday")
        weekday = _DAYS.index(day)
    return Delivery(every, at, weekday)  # type: ignore[arg-type]


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone; ``ValueError`` when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not a time zone; use an IANA name like 'Europe/Berlin'"
        ) from exc


def delivery_for(
    recipient: str,
    watch_delivery: str | None,
    by_recipient: dict[str, str],
    default: str,
) -> Delivery:
    """The mode for one (recipient, watch): watch, then recipient, then the default."""
    return parse_delivery(watch_delivery or by_recipient.get(recipient) or default)


def _local_at(day: datetime, at: time, tz: ZoneInfo) -> datetime:
    # Wall-clock time on that local date; zoneinfo resolves DST gaps and folds.
    return datetime.combine(day.date(), at, tzinfo=tz).astimezone(UTC)


def next_due(mode: Delivery, after: datetime, tz: ZoneInfo) -> datetime:
    """The first delivery slot at or after ``after`` (returned in UTC)."""
    after = after.astimezone(UTC)
    if mode.every == "immediate":
        return after
    local = after.astimezone(tz)
    if mode.every == "hourly":
        slot = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        return slot if slot >= after else slot + timedelta(hours=1)
    step = 1 if mode.every == "daily" else 7
    offset = 0 if mode.every == "daily" else (mode.weekday - local.weekday()) % 7
    # At most two candidates: this period's slot, or the next one.
    for extra in (0, step):
        slot = _local_at(local + timedelta(days=offset + extra), mode.at, tz)
        if slot >= after:
            return slot
    raise AssertionError("unreachable: the next period's slot is always later")


def retry_delay(attempts: int, base: float, cap: float) -> timedelta:
    """Back-off before the next attempt: base, 2*base, 4*base ... capped; never gives up."""
    exponent = min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(base * 2**exponent, cap))
