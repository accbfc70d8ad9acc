"""The SQL behind trends, the report and spike alerts.

A story's day is the local day (in ``tz``) it was first seen: the earliest
``least(coalesce(published_at, fetched_at), fetched_at)`` over its articles, so a copy
syndicated a day later, or a publish date in the future, does not move or double it.
A story belongs to a watch when any of its articles matched the watch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

__all__ = [
    "StoryRow",
    "co_mentions",
    "daily_story_counts",
    "latest_stories",
    "observed_since",
    "top_outlets",
]

# Every query below starts from these: one row per story with its first-seen day, and one row
# per (watch, story) that fired. Parameters: $tz, $watches (list), $start, $end.
_STORY_DAYS = """
    story AS (
        SELECT story_id,
               min(least(coalesce(published_at, fetched_at), fetched_at)) AS first_seen,
               CAST(timezone($tz, first_seen) AS DATE) AS day,
               count(*) AS copies
        FROM articles
        GROUP BY story_id
    ),
    hit AS (
        SELECT DISTINCT m.watch_id, a.story_id
        FROM matches AS m
        JOIN articles AS a ON a.id = m.article_id
        WHERE list_contains($watches, m.watch_id)
    ),
    story_hit AS (
        SELECT hit.watch_id, story.*
        FROM hit JOIN story USING (story_id)
        WHERE story.day BETWEEN $start AND $end
    )
"""

# Where an article came from, for people: the site's name, else the feed's title, else its id.
_OUTLET = "coalesce(nullif(trim(a.site_name), ''), nullif(trim(f.title), ''), a.feed_id)"


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story as the report lists it: its first matching article and the mention's context."""

    watch_id: str
    story_id: str
    title: str
    # As published by the feed; untrusted (the report only links http(s) URLs).
    url: str
    outlet: str
    first_seen: datetime
    # Articles carrying this story (syndicated copies included).
    copies: int
    # The matched text and its context, from the body when it matched there.
    text: str
    snippet: str


def _params(
    watch_ids: Sequence[str], start: date, end: date, tz: str, **extra: Any
) -> dict[str, Any]:
    return {"tz": tz, "watches": list(watch_ids), "start": start, "end": end, **extra}


def observed_since(con: duckdb.DuckDBPyConnection, tz: str = "UTC") -> date | None:
    """The local day of the first fetch: days before it are unknown, not quiet. None if empty."""
    row = con.execute(
        "SELECT CAST(timezone($tz, min(fetched_at)) AS DATE) FROM articles", {"tz": tz}
    ).fetchone()
    return row[0] if row and row[0] is not None else None


def daily_story_counts(
    con: duckdb.DuckDBPyConnection,
    watch_ids: Sequence[str],
    start: date,
    end: date,
    tz: str = "UTC",
) -> dict[str, dict[date, int]]:
    """Distinct stories per watch per local day in ``[start, end]``; quiet days are absent."""
    rows = con.execute(
        f"WITH {_STORY_DAYS} SELECT watch_id, day, count(*) FROM story_hit GROUP BY ALL",  # noqa: S608
        _params(watch_ids, start, end, tz),
    ).fetchall()
    counts: dict[str, dict[date, int]] = {watch: {} for watch in watch_ids}
    for watch, day, stories in rows:
        counts[watch][day] = int(stories)
    return counts


def top_outlets(
    con: duckdb.DuckDBPyConnection,
    watch_ids: Sequence[str],
    start: date,
    end: date,
    tz: str = "UTC",
    limit: int = 8,
) -> dict[str, list[tuple[str, int]]]:
    """Per watch, the outlets that carried the most of its stories, as (outlet, stories)."""
    rows = con.execute(
        f"""
        WITH {_STORY_DAYS}
        SELECT m.watch_id, {_OUTLET} AS outlet, count(DISTINCT a.story_id) AS stories
        FROM matches AS m
        JOIN articles AS a ON a.id = m.article_id
        JOIN story_hit AS s ON s.story_id = a.story_id AND s.watch_id = m.watch_id
        LEFT JOIN feeds AS f ON f.id = a.feed_id
        GROUP BY m.watch_id, outlet
        QUALIFY row_number() OVER (PARTITION BY m.watch_id ORDER BY stories DESC, outlet) <= $n
        ORDER BY m.watch_id, stories DESC, outlet
        """,  # noqa: S608  (constant fragments; values are bound parameters)
        _params(watch_ids, start, end, tz, n=limit),
    ).fetchall()
    result: dict[str, list[tuple[str, int]]] = {watch: [] for watch in watch_ids}
    for watch, outlet, stories in rows:
        result[watch].append((str(outlet), int(stories)))
    return result


def latest_stories(
    con: duckdb.DuckDBPyConnection,
    watch_ids: Sequence[str],
    start: date,
    end: date,
    tz: str = "UTC",
    limit: int = 10,
) -> dict[str, list[StoryRow]]:
    """Per watch, its newest stories with the first matching article and a snippet."""
    rows = con.execute(
        f"""
        WITH {_STORY_DAYS},
        lead AS (
            SELECT s.watch_id, s.story_id, s.first_seen, s.copies, a.title, a.url,
                   {_OUTLET} AS outlet, m.text, m.snippet
            FROM story_hit AS s
            JOIN articles AS a ON a.story_id = s.story_id
            JOIN matches AS m ON m.article_id = a.id AND m.watch_id = s.watch_id
            LEFT JOIN feeds AS f ON f.id = a.feed_id
            QUALIFY row_number() OVER (
                PARTITION BY s.watch_id, s.story_id
                ORDER BY least(coalesce(a.published_at, a.fetched_at), a.fetched_at), a.id,
                         CASE m.field WHEN 'body' THEN 0 WHEN 'summary' THEN 1 ELSE 2 END,
                         m."start"
            ) = 1
        )
        SELECT * FROM lead
        QUALIFY row_number() OVER (
            PARTITION BY watch_id ORDER BY first_seen DESC, story_id
        ) <= $n
        ORDER BY watch_id, first_seen DESC, story_id
        """,  # noqa: S608  (constant fragments; values are bound parameters)
        _params(watch_ids, start, end, tz, n=limit),
    ).fetchall()
    result: dict[str, list[StoryRow]] = {watch: [] for watch in watch_ids}
    for watch, story_id, first_seen, copies, title, url, outlet, text, snippet in rows:
        result[watch].append(
            StoryRow(watch, story_id, title, url, outlet, first_seen, int(copies), text, snippet)
        )
    return result


def co_mentions(
    con: duckdb.DuckDBPyConnection,
    watch_ids: Sequence[str],
    start: date,
    end: date,
    tz: str = "UTC",
) -> dict[tuple[str, str], int]:
    """Stories on which two watches both fired, keyed both ways; (w, w) is w's own total."""
    rows = con.execute(
        f"""
        WITH {_STORY_DAYS}
        SELECT x.watch_id, y.watch_id, count(*)
        FROM story_hit AS x JOIN story_hit AS y
          ON x.story_id = y.story_id AND x.watch_id <= y.watch_id
        GROUP BY ALL
        """,  # noqa: S608  (constant fragments; values are bound parameters)
        _params(watch_ids, start, end, tz),
    ).fetchall()
    table: dict[tuple[str, str], int] = defaultdict(int)
    for left, right, stories in rows:
        table[(left, right)] = table[(right, left)] = int(stories)
    return dict(table)
