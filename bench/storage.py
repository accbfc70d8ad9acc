"""Storage benchmark: batch writes and the documented queries on a big synthetic database.

Protocol (issue 7): a synthetic database with 1,000,000 articles and 5,000,000 matches,
generated in SQL; then
- one batch of 10,000 articles with their 50,000 matches written through the store writer
  (``store.writer.write_batch``: one transaction), target < 2 s, side by side with the
  one-INSERT-per-row ``executemany`` approach it replaced (measured on a sample, scaled);
- each example query of docs/schema.md through the read-only ``newsradar sql`` path,
  median of 3 runs, target < 1 s each.
``--quick`` uses 50,000 articles / 250,000 matches and fewer repetitions.

    python -m bench.storage [--quick]
"""

from __future__ import annotations

import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

# Loaded first: newsradar.store.writer -> store.alerts -> newsradar.alerts -> store.alerts
# is an import cycle when store.writer is imported on its own.
import newsradar.alerts  # noqa: F401
from newsradar.models import Article, Mention
from newsradar.store import open_writer
from newsradar.store.alerts import AlertRow
from newsradar.store.reader import query_session
from newsradar.store.writer import MatchRow, write_batch

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "schema.md"
FEEDS = 200
WATCHES = 50
MATCHES_PER_ARTICLE = 5
BATCH = 10_000


def generate(con: duckdb.DuckDBPyConnection, articles: int, now: dt.datetime) -> None:
    """Fill a migrated database with synthetic rows, in SQL.

    Articles arrive in time order over a year (as a real pass appends them), ids are 20 hex
    characters like ``identity.article_id``, three consecutive articles share a story, and
    each article has five matches spread over 50 watches ('nato' and 'north-korea' among them).
    Bodies are short (~250 characters): the queries measured never read them.
    """
    con.execute("SET VARIABLE now = ?::TIMESTAMPTZ", [now])
    con.execute(
        """
        INSERT INTO feeds (id, url, configured_url, title, last_success_at, last_new_item_at,
                           consecutive_failures)
        SELECT 'feed-' || i, 'https://feeds.example/' || i, 'https://feeds.example/' || i,
               'Outlet ' || i, getvariable('now'),
               getvariable('now') - to_seconds(CAST(hash(i) % (40 * 86400) AS BIGINT)), 0
        FROM range(?) AS t(i)
        """,
        [FEEDS],
    )
    con.execute(
        """
        INSERT INTO watches
        SELECT CASE i WHEN 0 THEN 'nato' WHEN 1 THEN 'north-korea' ELSE 'watch-' || i END,
               'Watch ' || i, 'rule-' || i, 'terms = [...]', getvariable('now')
        FROM range(?) AS t(i)
        """,
        [WATCHES],
    )
    con.execute(
        """
        INSERT INTO articles
        SELECT substr(md5('article' || i), 1, 20), 'feed-' || (i % 200), 'guid-' || i,
               'https://news.example/' || i, 'https://news.example/' || i,
               'Title of article ' || i, 'Summary of article ' || i,
               'Body of article ' || i || ' ' || repeat('lorem ipsum dolor ', 12),
               NULL, 'en', CASE WHEN i % 5 = 0 THEN NULL ELSE 'Outlet ' || (i % 200) END,
               fetched - to_seconds(CAST(hash(i) % 7200 AS BIGINT)), NULL, 'feed', fetched,
               'page', 'ok', NULL, substr(md5('content' || i), 1, 20),
               substr(md5('article' || (i - i % 3)), 1, 20), 'run-' || (i // 1000)
        FROM (
            SELECT i, getvariable('now')
                      - to_seconds(CAST(($n - i) * (365 * 86400 // $n) AS BIGINT)) AS fetched
            FROM range($n) AS t(i)
        )
        """,
        {"n": articles},
    )
    con.execute(
        """
        INSERT INTO matches
        SELECT substr(md5('article' || i), 1, 20),
               CASE w WHEN 0 THEN 'nato' WHEN 1 THEN 'north-korea' ELSE 'watch-' || w END,
               'rule-' || w, CASE k % 3 WHEN 0 THEN 'title' WHEN 1 THEN 'summary' ELSE 'body' END,
               k * 40, k * 40 + 4, 'NATO', 'a sentence of context around NATO',
               getvariable('now')
        FROM (SELECT i, k, CAST(hash(i * 5 + k) % $w AS INTEGER) AS w
              FROM range($n) AS a(i), range($k) AS b(k))
        """,
        {"n": articles, "k": MATCHES_PER_ARTICLE, "w": WATCHES},
    )
    # The outbox after a year: one sent alert per article, to one of three desks.
    con.execute(
        """
        INSERT INTO alerts (id, recipient, watch_id, story_id, article_id, kind, status,
                            attempts, created_at, sent_at)
        SELECT substr(md5('alert' || i), 1, 20), 'desk-' || (i % 3) || '@example.org',
               'watch-' || (hash(i) % $w), substr(md5('article' || (i - i % 3)), 1, 20),
               substr(md5('article' || i), 1, 20), 'match', 'sent', 1, getvariable('now'),
               getvariable('now')
        FROM range($n) AS t(i)
        """,
        {"n": articles, "w": WATCHES},
    )


def batch(size: int, now: dt.datetime, tag: str) -> tuple[list[Article], list[MatchRow]]:
    """``size`` new articles (3 KB bodies) with five matches each, as a pass hands them over."""
    body = "NATO and North Korea. " * 140
    articles = [
        Article(
            id=f"{tag}{i:015d}",
            feed_id=f"feed-{i % FEEDS}",
            guid=f"{tag}-guid-{i}",
            url=f"https://news.example/{tag}/{i}",
            canonical_url=f"https://news.example/{tag}/{i}",
            title=f"NATO and North Korea, part {i}",
            text=body,
            fetched_at=now,
            summary="NATO and North Korea",
            site_name="Outlet",
            published_at=now,
            date_source="feed",
            content_hash=f"{tag}hash{i}",
            story_id=f"{tag}{i - i % 3:015d}",
        )
        for i in range(size)
    ]
    matches = [
        MatchRow(a.id, Mention("nato", "body", 22 * k, 22 * k + 4, "NATO"), "rule-0", body[:80])
        for a in articles
        for k in range(MATCHES_PER_ARTICLE)
    ]
    return articles, matches


def write_row_by_row(
    con: duckdb.DuckDBPyConnection, articles: list[Article], matches: list[MatchRow]
) -> None:
    """The baseline: one INSERT per row (``executemany``), the writer's first version."""
    con.execute("BEGIN TRANSACTION")
    con.executemany(
        "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, summary, text,"
        " site_name, published_at, date_source, fetched_at, text_source, status, content_hash,"
        " story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [
            (a.id, a.feed_id, a.guid, a.url, a.canonical_url, a.title, a.summary, a.text,
             a.site_name, a.published_at, a.date_source, a.fetched_at, a.text_source, a.status,
             a.content_hash, a.story_id)
            for a in articles
        ],
    )  # fmt: skip
    con.executemany(
        "INSERT INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()) ON CONFLICT DO NOTHING",
        [
            (m.article_id, m.mention.watch_id, m.rule_hash, m.mention.field, m.mention.start,
             m.mention.end, m.mention.text, m.snippet)
            for m in matches
        ],
    )  # fmt: skip
    con.execute("COMMIT")


def _write(
    con: duckdb.DuckDBPyConnection,
    articles: list[Article],
    matches: list[MatchRow],
    now: dt.datetime,
) -> None:
    # One alert per story, as a pass queues them for a desk.
    alerts = [
        AlertRow(
            f"alert-{a.story_id}", "desk-0@example.org", "nato", a.story_id, a.id, "match", now
        )
        for a in articles
        if a.id == a.story_id
    ]
    write_batch(
        con, run_id="bench", articles=articles, matches=matches, polls=[], alerts=alerts,
        events=[], now=now,
    )  # fmt: skip


def _timed(fn: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def _whole_pass(
    db: Path, articles: list[Article], matches: list[MatchRow], now: dt.datetime
) -> None:
    with open_writer(db) as con:
        _write(con, articles, matches, now)


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _load() -> str:
    """The machine is shared: say how busy it was (1-minute load average on 2 cores)."""
    return f"load average {os.getloadavg()[0]:.1f}"


def examples() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def _row(measure: str, value: float, target: str, limit: float | None, **extra: object) -> dict:
    row: dict[str, object] = {
        "stage": "storage",
        "measure": measure,
        "newsradar": round(value, 3),
        "baseline_name": None,
        "baseline": None,
        "ratio": None,
        "unit": "s",
        "target": target,
        "met": None if limit is None else value < limit,
        "notes": "",
    }
    row.update(extra)
    return row


def run(quick: bool) -> list[dict]:
    n_articles = 50_000 if quick else 1_000_000
    sample = 20 if quick else 100
    now = dt.datetime.now(dt.UTC)
    size = (
        f"{n_articles:,} articles / {n_articles * MATCHES_PER_ARTICLE:,} matches / "
        f"{n_articles:,} alerts"
    )
    with tempfile.TemporaryDirectory(prefix="newsradar-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        with open_writer(db) as con:
            generated = _timed(lambda: generate(con, n_articles, now))

        # Several batches, each in its own pass; the best counts (the machine is shared).
        inserts, cpus, passes = [], [], []
        for tag in "no" if quick else "nop":
            articles, matches = batch(BATCH, now, tag)
            with open_writer(db) as con:
                cpu = time.process_time()
                inserts.append(_timed(_write, con, articles, matches, now))
                cpus.append(time.process_time() - cpu)
        # The same as whole passes: open, migration check, write, CHECKPOINT, close.
        for tag in "q" if quick else "qr":
            articles, matches = batch(BATCH, now, tag)
            passes.append(_timed(_whole_pass, db, articles, matches, now))
        insert, with_checkpoint = min(inserts), min(passes)
        few_articles, few_matches = batch(sample, now, "r")
        with open_writer(db) as con:
            per_row = _timed(lambda: write_row_by_row(con, few_articles, few_matches))
        baseline = per_row * BATCH / sample

        rows = [
            _row(
                f"write {BATCH:,} articles + {BATCH * MATCHES_PER_ARTICLE:,} matches + "
                f"{-(-BATCH // 3):,} alerts, one transaction "
                f"(s, best of {len(inserts)}, lower is better)",
                insert,
                "< 2 s",
                2.0,
                baseline_name=f"executemany, one INSERT per row (measured on {sample} "
                "articles, scaled linearly)",
                baseline=round(baseline, 3),
                ratio=round(insert / baseline, 4),
                notes=f"into a database of {size}; 3 KB bodies; runs {_list(inserts)} s; CPU time "
                f"{_list(cpus)} s; {_load()}",
            ),
            _row(
                "the same batch as a whole pass: open, write, CHECKPOINT, close "
                f"(s, best of {len(passes)}, lower is better)",
                with_checkpoint,
                "< 2 s",
                2.0,
                notes=f"database of {size}; runs {_list(passes)} s; {_load()}",
            ),
            _row(
                f"generate the synthetic database in SQL ({size}) (s)",
                generated,
                "",
                None,
                notes="setup, not a target",
            ),
        ]
        with query_session(db, timeout=120) as session:
            for number, query in enumerate(examples(), start=1):
                times, cpu_times = [], []
                for _ in range(3):
                    cpu = time.process_time()
                    times.append(_timed(lambda q=query: session.fetch(q)))
                    cpu_times.append(time.process_time() - cpu)
                title = " ".join(query.split())[:70]
                rows.append(
                    _row(
                        f"docs/schema.md example {number}: {title} (s, median of 3, "
                        "lower is better)",
                        statistics.median(times),
                        "< 1 s",
                        1.0,
                        notes=f"read-only session, database of {size}; "
                        f"runs {_list(times)} s; CPU time (all "
                        f"threads) median {statistics.median(cpu_times):.3f} s; {_load()}",
                    )
                )
    return rows


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(
            f"{result['newsradar']:>9.3f} {result['unit']}  target {result['target'] or '-':<6}"
            f" met={result['met']}  {result['measure']}"
            + (f"  baseline {result['baseline']} s" if result["baseline"] else "")
            + f"\n{'':>12}{result['notes']}"
        )
