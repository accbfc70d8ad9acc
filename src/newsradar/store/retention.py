"""Retention: drop old article bodies, keep everything that counts.

``[storage] keep_days`` bounds how long full article texts stay in the database. Titles,
URLs, hashes, matches (with their snippets) and therefore every count and view stay forever,
so trends over years remain queryable while the file stays small.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from newsradar.store.connection import transaction

__all__ = ["prune"]


def prune(con: duckdb.DuckDBPyConnection, keep_days: int, now: dt.datetime) -> int:
    """Clear ``articles.text`` of articles fetched more than ``keep_days`` before ``now``.

    Returns how many bodies were cleared; ``keep_days`` 0 keeps everything. Runs in one
    transaction on a write connection (the maintenance flow calls it via ``open_writer``).
    """
    if keep_days <= 0:
        return 0
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    cutoff = now - dt.timedelta(days=keep_days)
    with transaction(con):
        row = con.execute(
            "UPDATE articles SET text = NULL WHERE fetched_at < ? AND text IS NOT NULL",
            [cutoff],
        ).fetchone()
    return int(row[0]) if row else 0
