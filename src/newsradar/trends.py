"""Trends: stories per day per watch, and the days that stand out (spikes).

Pure functions over counts; the SQL that produces the counts lives in
:mod:`newsradar.store.trends`. A *story* is counted once however many outlets carried it, on the
day it was first seen (local day in the configured time zone).

A day is a **spike** for a watch when its story count

* exceeds ``mean + k * stdev`` of the ``baseline_days`` (default 14) days before it, and
* is at least ``min_count``, so that 1 -> 3 on a quiet watch is not an alarm.

A day is only judged when the database has observed all of its baseline days; on a young
database :attr:`SpikeScan.note` says how many more days are needed instead of guessing.

    >>> series = build_series("nato", {date(2026, 11, d): 2 for d in range(1, 16)},
    ...                       date(2026, 11, 1), date(2026, 11, 16))
    >>> scan = detect_spikes(series, observed_from=date(2026, 11, 1), k=3, min_count=5)
    >>> [s.day for s in scan.spikes], scan.judged_from
    ([], datetime.date(2026, 11, 15))
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from newsradar.config import Config, WatchConfig
from newsradar.identity import stable_id
from newsradar.store.alerts import AlertRow

__all__ = [
    "SPIKE_KIND",
    "Series",
    "Spike",
    "SpikeScan",
    "build_series",
    "days_between",
    "detect_spikes",
    "parse_spike_story_id",
    "plan_spike_alerts",
    "spike_story_id",
]

SPIKE_KIND = "spike"


@dataclass(frozen=True, slots=True)
class Series:
    """Stories per day for one watch over consecutive days (missing days are zeros)."""

    watch_id: str
    days: tuple[date, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    def since(self, start: date) -> Series:
        """The tail of the series from ``start`` on."""
        keep = [i for i, day in enumerate(self.days) if day >= start]
        return Series(
            self.watch_id,
            tuple(self.days[i] for i in keep),
            tuple(self.counts[i] for i in keep),
        )


@dataclass(frozen=True, slots=True)
class Spike:
    """A day whose story count stands out from the days before it."""

    watch_id: str
    day: date
    count: int
    # Mean and population standard deviation of the baseline days.
    mean: float
    stdev: float
    # mean + k * stdev: the count had to exceed this (and reach min_count).
    threshold: float

    @property
    def story_id(self) -> str:
        return spike_story_id(self.watch_id, self.day)


@dataclass(frozen=True, slots=True)
class SpikeScan:
    """The result of judging a series: spikes, per-day thresholds and what could not be judged."""

    watch_id: str
    spikes: tuple[Spike, ...]
    # Threshold per judged day (mean + k * stdev), for drawing the baseline band.
    thresholds: Mapping[date, float]
    # First day that had a full baseline; None when no day of the series could be judged.
    judged_from: date | None
    # Why some or all days were not judged (young database), for the reader; "" when all were.
    note: str = ""


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive (empty when ``end < start``)."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def build_series(watch_id: str, counts: Mapping[date, int], start: date, end: date) -> Series:
    """A gap-free series from sparse ``{day: stories}`` counts; days without stories are 0."""
    days = tuple(days_between(start, end))
    return Series(watch_id, days, tuple(int(counts.get(day, 0)) for day in days))


def detect_spikes(
    series: Series,
    *,
    observed_from: date | None,
    k: float,
    min_count: int,
    baseline_days: int = 14,
    judge_from: date | None = None,
) -> SpikeScan:
    """Judge each day of ``series`` against the ``baseline_days`` days before it.

    ``observed_from`` is the first day the database watched anything (None: nothing yet); days
    before it are unknown rather than zero, so a day is judged only when its whole baseline lies
    on or after ``observed_from`` and inside ``series``. ``judge_from`` limits judging to the
    later days (e.g. the report period, or the last two days when planning alerts).
    """
    index = {day: i for i, day in enumerate(series.days)}
    spikes: list[Spike] = []
    thresholds: dict[date, float] = {}
    judged_from: date | None = None
    for day, count in zip(series.days, series.counts, strict=True):
        if judge_from is not None and day < judge_from:
            continue
        first = day - timedelta(days=baseline_days)
        if observed_from is None or first < observed_from or first not in index:
            continue
        window = series.counts[index[first] : index[day]]
        mean = statistics.fmean(window)
        stdev = statistics.pstdev(window, mu=mean)
        threshold = mean + k * stdev
        thresholds[day] = threshold
        judged_from = judged_from or day
        if count > threshold and count >= min_count:
            spikes.append(Spike(series.watch_id, day, count, mean, stdev, threshold))
    note = _young_note(series, observed_from, baseline_days, judged_from, judge_from)
    return SpikeScan(series.watch_id, tuple(spikes), thresholds, judged_from, note)


def _young_note(
    series: Series,
    observed_from: date | None,
    baseline_days: int,
    judged_from: date | None,
    judge_from: date | None,
) -> str:
    if not series.days:
        return ""
    wanted = judge_from or series.days[0]
    if judged_from is not None and judged_from <= wanted:
        return ""
    if observed_from is None:
        return (
            "The database holds no stories yet, so no day can be judged for spikes; "
            f"spike detection needs {baseline_days} days of history."
        )
    have = max(0, (series.days[-1] - observed_from).days + 1)
    first_judged = observed_from + timedelta(days=baseline_days)
    if judged_from is None:
        return (
            f"The database has {have} day{'s' if have != 1 else ''} of history "
            f"(since {observed_from.isoformat()}); spike detection needs {baseline_days} days "
            f"before a day can be judged, so the first day judged will be "
            f"{first_judged.isoformat()}."
        )
    return (
        f"The database has history since {observed_from.isoformat()}; days before "
        f"{judged_from.isoformat()} lack a full {baseline_days}-day baseline and are not judged."
    )


def spike_story_id(watch_id: str, day: date) -> str:
    """The outbox ``story_id`` of a spike: one per watch per day."""
    return f"spike:{watch_id}:{day.isoformat()}"


def _recipients(config: Config, watch: WatchConfig) -> tuple[str, ...]:
    return watch.recipients or config.alerts.recipients


def plan_spike_alerts(
    config: Config,
    spikes: Iterable[Spike],
    now: datetime,
    due: Callable[[str, WatchConfig], datetime | None] | None = None,
) -> list[AlertRow]:
    """Outbox rows announcing ``spikes``: one per recipient of each spiking watch.

    Like match alerts: ``story_id`` is ``spike:<watch>:<YYYY-MM-DD>`` and ``article_id`` repeats
    it (a spike has no article), so UNIQUE(recipient, watch_id, story_id, kind) keeps a spike
    to one row however often it is planned. Watches no longer configured are skipped.
    ``due(recipient, watch)`` gives the recipient's next digest slot
    (:func:`newsradar.alerts.outbox.due_function`), so the spike rides in that digest.
    """
    watches = {watch.id: watch for watch in config.watches}
    rows: list[AlertRow] = []
    for spike in spikes:
        watch = watches.get(spike.watch_id)
        if watch is None:
            continue
        for recipient in _recipients(config, watch):
            key = (recipient, spike.watch_id, spike.story_id, SPIKE_KIND)
            rows.append(
                AlertRow(
                    id=stable_id("alert", *key),
                    recipient=recipient,
                    watch_id=spike.watch_id,
                    story_id=spike.story_id,
                    article_id=spike.story_id,
                    kind=SPIKE_KIND,
                    created_at=now,
                    due_at=due(recipient, watch) if due else None,
                )
            )
    return rows


def parse_spike_story_id(story_id: str) -> tuple[str, date] | None:
    """``(watch_id, day)`` of a spike's outbox ``story_id``; None for other stories."""
    kind, _, rest = story_id.partition(":")
    watch_id, _, day = rest.rpartition(":")
    if kind != SPIKE_KIND or not watch_id:
        return None
    try:
        return watch_id, date.fromisoformat(day)
    except ValueError:
        return None
