"""Spikes from the database: load the daily counts, judge them, queue the alerts.

The edge between :mod:`newsradar.store.trends` (SQL) and :mod:`newsradar.trends` (pure rules).
Every pass calls :func:`queue_spike_alerts` before delivering digests, with the recipients'
digest slots (``newsradar.alerts.queue_spikes``, from ``newsradar.pipeline.deliver_alerts``):

    >>> with open_writer(cfg.storage.database) as con:       # doctest: +SKIP
    ...     queue_spike_alerts(con, cfg, now, due=due_function(cfg, now))

This module imports nothing from :mod:`newsradar.alerts`, which imports it to render spikes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from newsradar.config import Config, WatchConfig
from newsradar.store.alerts import queue_alerts
from newsradar.store.trends import daily_story_counts, observed_since
from newsradar.trends import (
    Series,
    Spike,
    SpikeScan,
    build_series,
    detect_spikes,
    parse_spike_story_id,
    plan_spike_alerts,
)

__all__ = [
    "SpikeNote",
    "describe_spikes",
    "local_today",
    "queue_spike_alerts",
    "recent_spikes",
    "scan_watches",
]


@dataclass(frozen=True, slots=True)
class SpikeNote:
    """What a digest says about a queued spike alert, recomputed from the database."""

    watch_id: str
    day: date
    count: int
    # Baseline mean and threshold; None when the day can no longer be judged.
    mean: float | None
    threshold: float | None

    def sentence(self, name: str) -> str:
        """ "NATO: 25 stories on Fri 20 Nov, usually 3.7 a day (spike threshold 6.1)"."""
        text = (
            f"{name}: {self.count} stor{'y' if self.count == 1 else 'ies'} on {self.day:%a %d %b}"
        )
        if self.mean is not None and self.threshold is not None:
            text += f", usually {self.mean:.1f} a day (spike threshold {self.threshold:.1f})"
        return text


def local_today(config: Config, now: datetime) -> date:
    """The day ``now`` falls on in the configured time zone (``[alerts] timezone``)."""
    return now.astimezone(ZoneInfo(config.alerts.timezone)).date()


def scan_watches(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    watch_ids: Sequence[str],
    start: date,
    end: date,
) -> dict[str, tuple[Series, SpikeScan]]:
    """Per watch, its stories per day over ``[start, end]`` and the spikes among those days.

    Counts are read from ``baseline_days`` before ``start`` so the first days can be judged.
    """
    tz, rules = config.alerts.timezone, config.trends
    history = start - timedelta(days=rules.baseline_days)
    counts = daily_story_counts(con, watch_ids, history, end, tz)
    observed = observed_since(con, tz)
    result: dict[str, tuple[Series, SpikeScan]] = {}
    for watch_id in watch_ids:
        series = build_series(watch_id, counts[watch_id], history, end)
        scan = detect_spikes(
            series,
            observed_from=observed,
            k=rules.k,
            min_count=rules.min_count,
            baseline_days=rules.baseline_days,
            judge_from=start,
        )
        result[watch_id] = (series.since(start), scan)
    return result


def recent_spikes(
    con: duckdb.DuckDBPyConnection, config: Config, now: datetime, days: int = 2
) -> list[Spike]:
    """Spikes of every configured watch on today and the day before (local days).

    Today is judged while it is still running: its count only grows, so a day over the
    threshold now stays over it. Yesterday is judged again to catch a late surge.
    """
    today = local_today(config, now)
    scans = scan_watches(
        con, config, [w.id for w in config.watches], today - timedelta(days=days - 1), today
    )
    return [spike for _, scan in scans.values() for spike in scan.spikes]


def queue_spike_alerts(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    now: datetime,
    due: Callable[[str, WatchConfig], datetime | None] | None = None,
) -> int:
    """Find recent spikes and queue one ``spike`` alert per recipient; returns how many were new.

    Safe to call every pass: a spike already in the outbox is not queued again. ``due`` gives
    each row's ``due_at`` (the recipient's next digest); without it the rows are due at once.
    """
    rows = plan_spike_alerts(config, recent_spikes(con, config, now), now, due)
    return queue_alerts(con, rows)


def describe_spikes(
    con: duckdb.DuckDBPyConnection, config: Config, story_ids: Iterable[str]
) -> dict[str, SpikeNote]:
    """Notes for the spike alerts among ``story_ids`` (``spike:<watch>:<day>``), by story id.

    For the digest: other story ids are ignored, so all of a mail's rows can be passed.
    """
    notes: dict[str, SpikeNote] = {}
    for story_id in dict.fromkeys(story_ids):
        parsed = parse_spike_story_id(story_id)
        if parsed is None:
            continue
        watch_id, day = parsed
        series, scan = scan_watches(con, config, [watch_id], day, day)[watch_id]
        spike = next(iter(scan.spikes), None)
        # A spike no longer over its threshold (stories re-dated since) still gets its count.
        notes[story_id] = SpikeNote(
            watch_id,
            day,
            series.counts[0],
            spike.mean if spike else None,
            spike.threshold if spike else None,
        )
    return notes
