"""Operational reads for ``newsradar serve``: feed health, the last useful pass, checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

__all__ = ["FeedHealth", "StoreActivity", "checkpoint", "feed_health", "store_activity"]


@dataclass(frozen=True, slots=True)
class FeedHealth:
    feed_id: str
    url: str
    consecutive_failures: int
    error_class: str | None
    error_message: str | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoreActivity:
    # When the first pass ever started (None: no pass yet).
    first_run_at: datetime | None
    # When the last pass that stored at least one article finished (None: never).
    last_stored_at: datetime | None


def feed_health(con: duckdb.DuckDBPyConnection) -> list[FeedHealth]:
    """Every known feed, failing ones first (most consecutive failures first)."""
    rows = con.execute(
        "SELECT id, url, consecutive_failures, error_class, error_message, last_success_at,"
        " last_new_item_at FROM feeds ORDER BY consecutive_failures DESC, id"
    ).fetchall()
    return [FeedHealth(*row) for row in rows]


def store_activity(con: duckdb.DuckDBPyConnection) -> StoreActivity:
    row = con.execute(
        "SELECT min(started_at), max(finished_at) FILTER (WHERE articles_stored > 0) FROM runs"
    ).fetchone()
    return StoreActivity(*row) if row else StoreActivity(None, None)


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Fold the write-ahead log into the database file (so a file copy is a full backup)."""
    con.execute("CHECKPOINT")
