"""A real DuckDB file with stories over N days for the trends and report tests (and bench).

Three watches: ``nato`` (3-5 stories a day, each carried by 1-3 outlets, some copies a day
late), ``dprk`` (0-2 a day, some on the same stories as nato) and ``arms`` (rare). ``nato`` has a
planted spike of ``spike_stories`` stories on ``spike_day``. One story carries hostile text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from newsradar.store import open_writer

OUTLETS = ("Reuters", "AP News", "Deutsche Welle", "NHK World", "Yonhap", "Le Monde")
HOSTILE_TITLE = "<script>alert('x')</script> NATO & <b>friends</b>"
HOSTILE_URL = "javascript:alert(1)"


@dataclass
class Planted:
    """What the builder wrote, for assertions."""

    path: Path
    first_day: date
    last_day: date
    spike_day: date | None
    # Distinct stories per (watch, day), as the report must count them.
    stories: dict[tuple[str, date], int] = field(default_factory=dict)
    articles: int = 0


def build_trends_db(
    path: Path,
    *,
    last_day: date,
    days: int = 30,
    spike_day: date | None = None,
    spike_stories: int = 25,
    seed: int = 7,
    scale: int = 1,
) -> Planted:
    """Write ``days`` days of stories ending on ``last_day`` into a migrated database."""
    rng = random.Random(seed)
    first_day = last_day - timedelta(days=days - 1)
    planted = Planted(path, first_day, last_day, spike_day)
    articles: list[tuple[object, ...]] = []
    matches: list[tuple[object, ...]] = []
    n = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        per_day = rng.randint(3, 5) * scale
        if day == spike_day:
            per_day = spike_stories * scale
        for s in range(per_day):
            n += 1
            story = f"story-{n}"
            watches = ["nato"]
            roll = rng.random()
            if roll < 0.3:
                watches.append("dprk")
            elif roll < 0.35:
                watches.append("arms")
            hour = rng.randint(0, 22)
            hostile = offset == days - 1 and s == 0
            for copy in range(rng.randint(1, 3)):
                # A copy now and then appears the next day; it must not count again.
                late = copy > 0 and rng.random() < 0.3
                published = datetime.combine(day, time(hour, 10 * copy), tzinfo=UTC)
                if late:
                    published += timedelta(days=1)
                if published.date() > last_day:
                    continue
                article_id = f"{story}-{copy}"
                outlet = OUTLETS[(n + copy) % len(OUTLETS)]
                title = HOSTILE_TITLE if hostile else f"Story {n} about {' and '.join(watches)}"
                url = HOSTILE_URL if hostile else f"https://news.example/{story}/{copy}"
                body = f"Body of story {n}: NATO allies met. North Korea was discussed."
                articles.append(
                    (article_id, f"feed-{outlet[:2].lower()}", url, title, body, outlet,
                     published, published + timedelta(minutes=15), story)
                )  # fmt: skip
                for watch in watches:
                    snippet = f"... the {watch.upper()} snippet of story {n} ..."
                    if hostile:
                        snippet = "<img src=https://evil.example/x.png> NATO <i>snippet</i>"
                    matches.append(
                        (article_id, watch, "body", 0, 4, watch.upper(), snippet, published)
                    )
            for watch in watches:
                key = (watch, day)
                planted.stories[key] = planted.stories.get(key, 0) + 1
    planted.articles = len(articles)
    with open_writer(path, lock_timeout=5) as con:
        con.execute("BEGIN TRANSACTION")
        con.executemany(
            "INSERT INTO feeds (id, url, configured_url, title) VALUES (?, ?, ?, ?)",
            [
                (f"feed-{o[:2].lower()}", f"https://{i}.example/rss", f"https://{i}.example/rss", o)
                for i, o in enumerate(OUTLETS)
            ],
        )
        con.executemany(
            """
            INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, site_name,
                                  published_at, fetched_at, text_source, status, content_hash,
                                  story_id)
            VALUES ($1, $2, $1, $3, $3, $4, $5, $6, $7, $8, 'page', 'ok', $1, $9)
            """,
            articles,
        )
        con.executemany(
            """
            INSERT INTO matches (article_id, watch_id, rule_hash, field, "start", "end", text,
                                 snippet, matched_at)
            VALUES (?, ?, 'h', ?, ?, ?, ?, ?, ?)
            """,
            matches,
        )
        con.execute("COMMIT")
    return planted


def trends_config_text(database: Path) -> dict[str, str]:
    """newsradar.toml / feeds.toml / watchlist.toml for the planted database."""
    settings = (
        f'[storage]\ndatabase = "{database}"\nlock_timeout = 5\n\n'
        '[alerts]\nrecipients = ["analyst@example.org"]\n\n'
        "[trends]\nk = 3.0\nmin_count = 5\n"
    )
    feeds = '[[feed]]\nname = "local"\nurl = "http://127.0.0.1:1/feed.xml"\n'
    watchlist = (
        '[[watch]]\nid = "nato"\nname = "NATO"\nterms = ["NATO"]\n'
        'recipients = ["nato-desk@example.org", "analyst@example.org"]\n\n'
        '[[watch]]\nid = "dprk"\nname = "North Korea"\nterms = ["North Korea"]\n\n'
        '[[watch]]\nid = "arms"\nname = "Arms transfers"\nterms = ["arms transfers"]\n'
    )
    return {"newsradar.toml": settings, "feeds.toml": feeds, "watchlist.toml": watchlist}
