"""Spikes from the database: load the daily counts, judge them, queue the alerts.

The edge between :mod:`newsradar.store.trends` (SQL) and :mod:`newsradar.trends` (pure rules).
The pipeline calls :func:`queue_spike_alerts` once per pass, inside its write transaction:

    >>> with open_writer(cfg.storage.database) as con:       # doctest: +SKIP
    ...     queue_spike_alerts(con, cfg, datetime.now(UTC))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from newsradar.config import Config, WatchConfig
from newsradar.store.trends import daily_story_counts, insert_spike_alerts, observed_since
from newsradar.trends import (
    Series,
    Spike,
    SpikeScan,
    build_series,
    detect_spikes,
    plan_spike_alerts,
)

__all__ = ["local_today", "queue_spike_alerts", "recent_spikes", "scan_watches"]


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

    Safe to call every pass: a spike already in the outbox is not queued again.
    """
    rows = plan_spike_alerts(config, recent_spikes(con, config, now), now, due)
    return insert_spike_alerts(con, rows)
