"""A pass-like writer to be SIGKILLed: batches through ``store.writer.write_batch``.

Run as ``python -m tests.store.crash_writer PATH BATCHES``. It prints ``ready`` once the
database is open, then writes batches 0..BATCHES-1 (re-writing the ones already stored, as a
re-run would: that must add nothing), prints ``committed N`` after each commit, and
checkpoints every few batches so kills also land inside a checkpoint.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb

from newsradar.alerts.outbox import AlertRow
from newsradar.models import Article, Mention
from newsradar.store import open_writer
from newsradar.store.writer import MatchRow, write_batch

SIZE = 200  # articles per batch
MATCHES = 3  # matches per article
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def article_id(batch: int, i: int) -> str:
    return f"b{batch:05d}-{i:03d}"


def write(con: duckdb.DuckDBPyConnection, batch: int) -> None:
    text = f"batch {batch} " + "lorem ipsum NATO " * 100
    articles = [
        Article(
            id=(a := article_id(batch, i)),
            feed_id="f",
            guid=a,
            url=f"https://x/{a}",
            canonical_url=f"https://x/{a}",
            title=a,
            text=text,
            fetched_at=NOW,
            content_hash=a,
            story_id=a,
        )
        for i in range(SIZE)
    ]
    matches = [
        MatchRow(a.id, Mention("nato", "body", k * 17, k * 17 + 4, "NATO"), "h", "NATO")
        for a in articles
        for k in range(MATCHES)
    ]
    lead = articles[0]
    alert = AlertRow(
        f"alert-{batch}", "a@example.org", "nato", lead.story_id, lead.id, "match", NOW
    )
    write_batch(
        con,
        run_id=f"batch-{batch}",
        articles=articles,
        matches=matches,
        polls=[],
        alerts=[alert],
        events=[],
        now=NOW,
    )


def main() -> None:
    path, batches = Path(sys.argv[1]), int(sys.argv[2])
    with open_writer(path, lock_timeout=30) as con:
        print("ready", flush=True)
        for batch in range(batches):
            write(con, batch)
            print(f"committed {batch}", flush=True)
            if batch % 7 == 6:
                con.execute("CHECKPOINT")


if __name__ == "__main__":
    main()
