"""A writer to be SIGKILLed: batches of articles and matches, one transaction each.

Run as ``python -m tests.store.crash_writer PATH BATCHES``. It writes batches 0..BATCHES-1
(re-writing the ones already stored must add nothing), prints ``committed N`` after each
commit, and checkpoints every few batches so kills also land inside a checkpoint.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb

from newsradar.store import open_writer

SIZE = 200  # articles per batch
MATCHES = 3  # matches per article
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def article_id(batch: int, i: int) -> str:
    return f"b{batch:05d}-{i:03d}"


def _insert_new(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    """Append rows to a staging table, then insert those not stored yet (re-runs add nothing)."""
    stage = f"stage_{table}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT * FROM {table} LIMIT 0")
    appender = con.appender(stage)
    appender.append_rows(rows)
    appender.flush()
    con.execute(f"INSERT INTO {table} SELECT * FROM {stage} ON CONFLICT DO NOTHING")


def write_batch(con: duckdb.DuckDBPyConnection, batch: int) -> None:
    ids = [article_id(batch, i) for i in range(SIZE)]
    text = f"batch {batch} " + "lorem ipsum NATO " * 100
    con.execute("BEGIN TRANSACTION")
    _insert_new(
        con,
        "articles",
        [
            (
                a,
                "f",
                a,
                f"https://x/{a}",
                f"https://x/{a}",
                a,
                None,
                text,
                None,
                None,
                None,
                NOW,
                None,
                None,
                NOW,
                "page",
                "ok",
                None,
                a,
                a,
                f"batch-{batch}",
            )
            for a in ids
        ],
    )
    _insert_new(
        con,
        "matches",
        [
            (a, "nato", "h", "body", k * 17, k * 17 + 4, "NATO", "NATO", NOW)
            for a in ids
            for k in range(MATCHES)
        ],
    )
    con.execute("COMMIT")


def main() -> None:
    path, batches = Path(sys.argv[1]), int(sys.argv[2])
    with open_writer(path, lock_timeout=30) as con:
        for batch in range(batches):
            write_batch(con, batch)
            print(f"committed {batch}", flush=True)
            if batch % 7 == 6:
                con.execute("CHECKPOINT")


if __name__ == "__main__":
    main()
