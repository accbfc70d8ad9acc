"""Opening the DuckDB file: short-lived connections, retried while another process holds it.

DuckDB lets one process write; while it holds the file, other processes cannot open it at all,
read-only included. So nobody keeps a connection between runs, and both the writer and readers
retry with back-off on a lock conflict before giving up with a message naming the holder.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from newsradar.errors import StoreError, StoreLockedError
from newsradar.store.schema import migrate

__all__ = ["open_reader", "open_writer"]

_LOCK_HINTS = ("Conflicting lock", "Could not set lock", "lock on file")


def _is_lock_error(exc: duckdb.Error) -> bool:
    return any(hint in str(exc) for hint in _LOCK_HINTS)


def _holder(exc: duckdb.Error) -> str:
    match = re.search(r"\(PID (\d+)\)", str(exc))
    return f"process {match.group(1)}" if match else "another process"


def _connect_retrying(
    path: Path,
    *,
    read_only: bool,
    timeout: float,
    config: dict[str, str | bool | int | float | list[str]] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open database {path}: {exc}") from exc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreLockedError(
                    f"database {path} is locked by {_holder(exc)}; waited {timeout:.0f} s. "
                    "Close that session (or wait for the pass to finish) and try again."
                ) from exc
            sleep(min(delay * (1 + random.random() / 2), remaining))
            delay = min(delay * 2, 5.0)


@contextmanager
def open_writer(path: Path, *, lock_timeout: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection with the schema migrated; checkpointed and closed on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_retrying(path, read_only=False, timeout=lock_timeout)
    try:
        migrate(con)
        yield con
        con.execute("CHECKPOINT")
    finally:
        con.close()


@contextmanager
def open_reader(
    path: Path,
    *,
    lock_timeout: float = 60.0,
    config: dict[str, str | bool | int | float | list[str]] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (the database must exist)."""
    if not path.exists():
        raise StoreError(f"database {path} does not exist yet; run `newsradar run` first")
    con = _connect_retrying(path, read_only=True, timeout=lock_timeout, config=config)
    try:
        yield con
    finally:
        con.close()
