"""The ``[schedule]`` table turned into schedules: a cron line or an interval, with a timezone.

    >>> parse_schedule("*/15 * * * *", "UTC", key="schedule.ingest")
    ScheduleSpec(cron='*/15 * * * *', interval=None, timezone='UTC')
    >>> parse_schedule("90s", "UTC", key="schedule.ingest").interval
    datetime.timedelta(seconds=90)

Pure and Prefect-free, so ``newsradar serve`` rejects a bad schedule (exit 2) before it starts
anything; ``flows/deployments.py`` turns the specs into Prefect schedules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsradar.config import SETTINGS_FILE, Config
from newsradar.errors import ConfigError

__all__ = ["DEPLOYMENTS", "ScheduleSpec", "parse_schedule", "schedules_of"]

# The deployments `newsradar serve` runs, each with its `[schedule]` key.
DEPLOYMENTS = ("ingest", "alerts", "maintenance")

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_INTERVAL = 366 * 86400
# One cron field: numbers, names (jan, mon), ranges, steps and lists; no random/hashed forms.
_ATOM = r"(\*|([0-9]+|[a-z]{3})(-([0-9]+|[a-z]{3}))?)(/[0-9]+)?"
_FIELD = re.compile(rf"^{_ATOM}(,{_ATOM})*$")
_VALUE = re.compile(r"[0-9]+|[a-z]{3}")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# Per field: its name, the lowest and highest number, and its names (numbered from lowest).
_RANGES = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),  # 0 and 7 are both Sunday
)


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    # Exactly one of cron and interval is set.
    cron: str | None
    interval: timedelta | None
    # IANA name; cron lines are read in this zone (so "0 7 * * *" follows daylight saving).
    timezone: str


def parse_schedule(
    text: str, timezone: str, *, key: str, file: str = SETTINGS_FILE
) -> ScheduleSpec:
    """A 5-field cron line ("*/15 * * * *") or an interval ("900", "15m", "1h", "1d")."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            file, "schedule.timezone", f"{timezone!r} is not an IANA timezone like 'Europe/Oslo'"
        ) from None
    interval = _INTERVAL.match(text)
    if interval:
        seconds = int(interval.group(1)) * _UNIT[(interval.group(2) or "s").lower()]
        if seconds < 60:
            raise ConfigError(file, key, f"{text!r} is shorter than a minute; use at least '1m'")
        if seconds > _MAX_INTERVAL:
            # timedelta overflows long before int does; a year is already far past any use.
            raise ConfigError(file, key, f"{text!r} is longer than a year; use at most '366d'")
        return ScheduleSpec(None, timedelta(seconds=seconds), timezone)
    fields = text.split()
    if len(fields) != 5 or not all(_FIELD.match(f.lower()) for f in fields):
        raise ConfigError(
            file,
            key,
            f"{text!r} is neither a 5-field cron line like '*/15 * * * *' nor an interval "
            "like '15m' or '1h'",
        )
    for field, (name, low, high, names) in zip(fields, _RANGES, strict=True):
        if problem := _out_of_range(field.lower(), name, low, high, names):
            raise ConfigError(file, key, f"{text!r}: {problem}")
    return ScheduleSpec(" ".join(fields), None, timezone)


def _out_of_range(field: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str:
    """What is wrong with one cron field's values and steps ("" when nothing)."""
    for atom in field.split(","):
        _, _, step = atom.partition("/")
        if step and int(step) == 0:
            return f"the step of the {name} field must be at least 1, not 0"
        for value in _VALUE.findall(atom.partition("/")[0]):
            if value.isdigit():
                if not low <= int(value) <= high:
                    return f"{name} {value} is out of range {low}-{high}"
            elif value not in names:
                known = f"; names are {names[0]}-{names[-1]}" if names else ""
                return f"{value!r} is not a {name} (use {low}-{high}{known})"
    return ""


def schedules_of(config: Config) -> dict[str, ScheduleSpec]:
    """The validated schedule of every deployment, keyed by deployment name."""
    file = str(Path(config.directory) / SETTINGS_FILE)
    tz = config.schedule.timezone
    return {
        name: parse_schedule(getattr(config.schedule, name), tz, key=f"schedule.{name}", file=file)
        for name in DEPLOYMENTS
    }
