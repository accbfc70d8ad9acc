"""The trends report: one self-contained HTML file that opens offline.

Per watch: stories per day with spike days marked, top outlets, the latest stories with their
snippets and links; across watches, how often two watches fire on the same story. Charts are
inline SVG from :mod:`newsradar.charts`; nothing in the file loads anything from anywhere.

    >>> report = write_report(load_config("config"), Path("trends.html"), days=14)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import jinja2
from markupsafe import Markup

from newsradar import __version__
from newsradar.alerts.digest import safe_url
from newsradar.atomic import write_atomic
from newsradar.charts import story_chart_svg
from newsradar.config import Config
from newsradar.errors import ConfigError, NewsradarError
from newsradar.spikes import local_today, scan_watches
from newsradar.store import open_reader
from newsradar.store.trends import (
    StoryRow,
    co_mentions,
    latest_stories,
    observed_since,
    top_outlets,
)
from newsradar.trends import Series, SpikeScan

__all__ = [
    "Report",
    "StoryView",
    "WatchSection",
    "collect_report",
    "render_report",
    "write_report",
]


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story as listed in the report; every string is raw text, escaped by the template."""

    title: str
    # None unless plain http(s): a feed's "javascript:" link never becomes a link.
    url: str | None
    outlet: str
    when: str
    copies: int
    # The snippet split around the matched text, so the template can mark it.
    before: str
    hit: str
    after: str


@dataclass(frozen=True, slots=True)
class WatchSection:
    id: str
    name: str
    series: Series
    scan: SpikeScan
    outlets: tuple[tuple[str, int], ...]
    stories: tuple[StoryView, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the page shows, gathered from one read of the database."""

    start: date
    end: date
    timezone: str
    generated_at: datetime
    k: float
    min_count: int
    baseline_days: int
    watches: tuple[WatchSection, ...]
    # Stories on which both watches fired, keyed both ways; (w, w) is w's own total.
    co_mentions: dict[tuple[str, str], int]
    # "The database holds no stories yet" and the like; shown at the top.
    notes: tuple[str, ...]
    # Local day of the first fetch (None: empty database); earlier days are shaded.
    observed_from: date | None = None


def _story_view(row: StoryRow, tz: ZoneInfo) -> StoryView:
    snippet = " ".join(row.snippet.split())
    at = snippet.lower().find(row.text.lower()) if row.text else -1
    if at < 0:
        before, hit, after = snippet, "", ""
    else:
        before, hit, after = (
            snippet[:at],
            snippet[at : at + len(row.text)],
            snippet[at + len(row.text) :],
        )
    return StoryView(
        title=" ".join(row.title.split()) or "(untitled)",
        url=safe_url(row.url),
        outlet=row.outlet,
        when=row.first_seen.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        copies=row.copies,
        before=before,
        hit=hit,
        after=after,
    )


def collect_report(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    start: date,
    end: date,
    watch_ids: Sequence[str] = (),
    now: datetime | None = None,
    stories_per_watch: int = 10,
) -> Report:
    """Read what the report shows for ``[start, end]`` (local days) and the given watches.

    ``watch_ids`` empty means every configured watch; an unknown id is a :class:`ConfigError`.
    """
    known = {w.id: w for w in config.watches}
    for watch_id in watch_ids:
        if watch_id not in known:
            raise ConfigError(
                str(config.watchlist_path),
                f"watch '{watch_id}'",
                f"no such watch; use one of: {', '.join(known) or '(none configured)'}",
            )
    ids = list(dict.fromkeys(watch_ids)) or list(known)
    tz_name = config.alerts.timezone
    tz = ZoneInfo(tz_name)
    scans = scan_watches(con, config, ids, start, end)
    outlets = top_outlets(con, ids, start, end, tz_name)
    stories = latest_stories(con, ids, start, end, tz_name, limit=stories_per_watch)
    sections = tuple(
        WatchSection(
            id=watch_id,
            name=known[watch_id].display_name,
            series=scans[watch_id][0],
            scan=scans[watch_id][1],
            outlets=tuple(outlets[watch_id]),
            stories=tuple(_story_view(row, tz) for row in stories[watch_id]),
        )
        for watch_id in ids
    )
    notes: list[str] = []
    if not ids:
        notes.append(f"No watches are configured; add some to {config.watchlist_path}.")
    elif all(section.series.total == 0 for section in sections):
        notes.append("No stories matched these watches in this period.")
    # Every watch shares the database's age, so one note says it for all.
    notes.extend(dict.fromkeys(s.scan.note for s in sections if s.scan.note))
    return Report(
        start=start,
        end=end,
        timezone=tz_name,
        generated_at=(now or datetime.now(UTC)).astimezone(tz),
        k=config.trends.k,
        min_count=config.trends.min_count,
        baseline_days=config.trends.baseline_days,
        watches=sections,
        co_mentions=co_mentions(con, ids, start, end, tz_name),
        notes=tuple(notes),
        observed_from=observed_since(con, tz_name),
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("newsradar", "templates"),
        autoescape=True,  # titles, snippets and outlet names come from hostile feeds
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(report: Report) -> str:
    """The report as one HTML document (charts inline, no external resource of any kind)."""
    # Markup: matplotlib's own SVG, whose text (the watch name) matplotlib escapes itself.
    charts = {
        s.id: Markup(
            story_chart_svg(
                s.series,
                s.scan,
                title=f"{s.name}: stories per day",
                observed_from=report.observed_from,
            )
        )
        for s in report.watches
    }
    template = _environment().get_template("report.html.j2")
    return template.render(report=report, charts=charts, version=__version__)


def write_report(
    config: Config,
    output: Path,
    *,
    days: int = 14,
    watch_ids: Sequence[str] = (),
    now: datetime | None = None,
) -> Report:
    """Read the database, render the report for the last ``days`` days and write ``output``.

    The file appears whole or not at all (written beside it, then renamed).
    """
    now = now or datetime.now(UTC)
    end = local_today(config, now)
    start = end - timedelta(days=days - 1)
    with open_reader(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        report = collect_report(con, config, start=start, end=end, watch_ids=watch_ids, now=now)
    html = render_report(report)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, html)
    except OSError as exc:  # disk full, quota, no such place: one line, not a traceback
        raise NewsradarError(
            f"cannot write the report to {output}: {exc.strerror or exc}; "
            "free space, or choose a writable file with --output"
        ) from exc
    return report
