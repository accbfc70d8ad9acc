"""Operational reads for ``newsradar serve``: when a pass last stored something; checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

__all__ = [
    "StoreActivity",
    "checkpoint",
    "close_interrupted_runs",
    "record_failed_run",
    "store_activity",
]


@dataclass(frozen=True, slots=True)
class StoreActivity:
    # When the first pass ever started (None: no pass yet).
    first_run_at: datetime | None
    # When the last pass that stored at least one article finished (None: never).
    last_stored_at: datetime | None


def store_activity(con: duckdb.DuckDBPyConnection) -> StoreActivity:
    row = con.execute(
        "SELECT min(started_at), max(finished_at) FILTER (WHERE articles_stored > 0) FROM runs"
    ).fetchone()
    return StoreActivity(*row) if row else StoreActivity(None, None)


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Fold the write-ahead log into the database file (so a file copy is a full backup)."""
    con.execute("CHECKPOINT")


# All that is known of a row left running: it may have been killed or cancelled, or have
# stopped on an error that neither the database nor the note beside it could take.
_NO_REASON = (
    "the pass stopped before it finished and left no reason (killed, cancelled, or an error "
    "it could not record); see its log or its flow run"
)


def close_interrupted_runs(
    con: duckdb.DuckDBPyConnection, now: datetime, *, current: str | None = None
) -> int:
    """Mark passes left ``running`` as ``interrupted`` (call only while holding the run lock:
    then no other pass can be running, so such a row belongs to one that stopped early without
    recording why).

    ``current`` is the calling pass's own id: a retried start may find the row its earlier
    attempt committed, and that pass is not over.
    """
    row = con.execute(
        "UPDATE runs SET status = 'interrupted', finished_at = ?,"
        " message = coalesce(message, ?)"
        " WHERE status = 'running' AND id IS DISTINCT FROM ?",
        [now, _NO_REASON, current],
    ).fetchone()
    return int(row[0]) if row else 0


def record_failed_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str, now: datetime
) -> bool:
    """Record that the pass ``run_id`` stopped at ``now`` on an error, as ``failed`` (or
    ``locked``) with the reason as the message; returns whether its row was written.

    A ``running`` row is ended. A pass with no row at all never began (the database was held,
    the disk refused, the configuration was invalid): it gets one, begun and ended at ``now``,
    with no counts, so that every pass that started shows in ``runs``. A row that has already
    ended is left as it is.
    """
    row = con.execute(
        "INSERT INTO runs (id, started_at, finished_at, status, message) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
        " finished_at = excluded.finished_at, message = excluded.message"
        " WHERE runs.status = 'running'",
        [run_id, now, now, status, message],
    ).fetchone()
    return bool(row and row[0])
