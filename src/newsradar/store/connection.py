"""Opening the DuckDB file: short-lived connections, retried while another process holds it.

DuckDB lets one process write; while it holds the file, other processes cannot open it at all,
read-only included. So nobody keeps a connection between runs, and both the writer and readers
retry with back-off on a lock conflict before giving up with a message naming the holder.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from newsradar.errors import StoreError, StoreLockedError
from newsradar.store.schema import latest_version, migrate

__all__ = ["is_database_file", "open_reader", "open_writer", "require_database", "transaction"]

_LOCK_HINTS = ("Conflicting lock", "Could not set lock", "lock on file")
# How DuckDB reports a write the file system refused (ENOSPC, EFBIG, EDQUOT).
_NO_ROOM = re.compile(r"Could not write file|No space left|File too large|quota exceeded", re.I)


def is_database_file(database: Path, path: Path) -> bool:
    """True when ``path`` names the database or its write-ahead log, however it is spelled.

    Commands that write a file the user names (query results, reports) check this first:
    opening such a file for writing truncates it, and the whole database with it.
    """
    target = path.resolve()
    for own in (database, database.with_name(database.name + ".wal")):
        if target == own.resolve():
            return True
        with contextlib.suppress(OSError):  # a hard link or another mount of the same file
            if target.exists() and own.exists() and target.samefile(own):
                return True
    return False


def _behind(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a read-only connection sees a schema older than this newsradar's."""
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except duckdb.CatalogException:  # not even the version table: nothing was migrated
        return True
    return not row or row[0] is None or row[0] < latest_version()


def _is_lock_error(exc: duckdb.Error) -> bool:
    return any(hint in str(exc) for hint in _LOCK_HINTS)


def _damaged(path: Path, exc: duckdb.Error) -> StoreError:
    # A file cut short (a failed copy, a full disk in the past) opens, then fails on read.
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(
        f"database {path} is damaged and cannot be read ({first}); restore it from a backup, "
        "or move it away and the next `newsradar run` starts a new one"
    )


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
                    f"database {path} is locked by {_holder(exc)}; waited {timeout:g} s for it. "
                    "Close that session (or wait for the pass to finish) and try again, "
                    "or raise [storage] lock_timeout"
                ) from exc
            sleep(min(delay * (1 + random.random() / 2), remaining))
            delay = min(delay * 2, 5.0)


def require_database(path: Path) -> None:
    """Refuse to go on before the first pass has made the database."""
    if not path.exists():
        raise StoreError(f"database {path} does not exist yet; run `newsradar run` first")


@contextmanager
def open_writer(path: Path, *, lock_timeout: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection with the schema migrated; checkpointed and closed on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_retrying(path, read_only=False, timeout=lock_timeout)
    try:
        migrate(con)
        yield con
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        if not _NO_ROOM.search(str(exc)):
            if isinstance(exc, duckdb.IOException):
                raise _damaged(path, exc) from exc
            raise
        # DuckDB rolled the transaction back: what was committed before is intact.
        raise StoreError(
            f"cannot write database {path}: the disk refused the write ({exc}). Free disk "
            "space, then run again: batches committed before are kept, the rest is fetched again"
        ) from exc
    finally:
        try:
            con.close()
        except duckdb.Error:  # after a failed write the connection may be unusable
            pass


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT around the block; on any error, ROLLBACK and re-raise that error.

    A COMMIT that fails (the disk refused the log) has already ended the transaction, so the
    ROLLBACK's own "no transaction is active" must not hide the error that matters.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


@contextmanager
def open_reader(
    path: Path,
    *,
    lock_timeout: float = 60.0,
    config: dict[str, str | bool | int | float | list[str]] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (the database must exist).

    A database from an older newsradar is upgraded first, as the next pass would do, so that
    analysts' commands see the documented schema right after an upgrade; when the file cannot
    be written (a read-only copy), it is read as it is.
    """
    require_database(path)
    con = _connect_retrying(path, read_only=True, timeout=lock_timeout, config=config)
    if _behind(con):
        con.close()
        try:
            with open_writer(path, lock_timeout=lock_timeout):
                pass
        except StoreLockedError:
            raise
        except (StoreError, duckdb.Error):
            pass  # not writable here: read the old schema
        con = _connect_retrying(path, read_only=True, timeout=lock_timeout, config=config)
    try:
        yield con
    except duckdb.IOException as exc:
        raise _damaged(path, exc) from exc
    finally:
        con.close()
