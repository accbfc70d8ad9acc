"""Ad-hoc SQL for analysts: read-only, no files, no settings, a time limit.

User SQL is code: DuckDB can read and write files, attach databases and load extensions from
SQL. A query session therefore opens the file read-only, sets ``enable_external_access=false``
and then ``lock_configuration=true`` (in that order: once locked, nothing can be changed back),
refuses every statement that is not a query, and interrupts a query that runs too long.
Statements are classified by DuckDB's own parser, not by regular expressions.

    >>> with query_session(Path("data/newsradar.duckdb")) as session:   # doctest: +SKIP
    ...     result = session.fetch("SELECT watch_id, count(*) FROM matches GROUP BY ALL")
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from newsradar.errors import QueryRefusedError, QueryTimeoutError, StoreError
from newsradar.store.connection import open_reader

__all__ = ["QueryResult", "QuerySession", "check_query", "query_session"]

_ST = duckdb.StatementType

# Why each kind of statement is refused, and what to do instead.
_REFUSALS: dict[Any, str] = {
    _ST.INSERT: "writes to the database",
    _ST.UPDATE: "writes to the database",
    _ST.DELETE: "writes to the database",
    _ST.MERGE_INTO: "writes to the database",
    _ST.CREATE: "changes the database",
    _ST.CREATE_FUNC: "changes the database",
    _ST.DROP: "changes the database",
    _ST.ALTER: "changes the database",
    _ST.COPY: "reads or writes files; use --format csv|json|parquet --output FILE, "
    "or `newsradar export`",
    _ST.COPY_DATABASE: "writes files; use `newsradar export`",
    _ST.EXPORT: "writes files; use `newsradar export`",
    _ST.ATTACH: "opens another database",
    _ST.DETACH: "changes the attached databases",
    _ST.LOAD: "installs or loads an extension",
    _ST.EXTENSION: "installs or loads an extension",
    _ST.SET: "changes settings (SET, RESET, USE)",
    _ST.VARIABLE_SET: "changes settings (SET VARIABLE)",
    _ST.PRAGMA: "runs a PRAGMA; use DESCRIBE tbl or SELECT * FROM pragma_table_info('tbl')",
    _ST.CALL: "calls a procedure; use SELECT * FROM fn(...)",
    _ST.TRANSACTION: "controls transactions",
    _ST.VACUUM: "rewrites the database",
    _ST.ANALYZE: "rewrites statistics",
    _ST.PREPARE: "prepares a statement",
    _ST.EXECUTE: "executes a prepared statement",
    _ST.MULTI: "expands into several statements (a PIVOT without an IN list creates a type "
    "first); list the values: PIVOT t ON col IN ('a', 'b')",
}
_ALLOWED = {_ST.SELECT, _ST.EXPLAIN}
_EXPLAIN = re.compile(r"^\s*EXPLAIN(\s+ANALYZE)?\s+", re.IGNORECASE)


def _refuse(statement: str, why: str) -> QueryRefusedError:
    head = " ".join(statement.split())[:60]
    return QueryRefusedError(
        f"refused: `{head}` {why}. `newsradar sql` only reads the database "
        "(SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)."
    )


def check_query(sql: str) -> str:
    """Return the one statement in ``sql`` if it only reads; raise QueryRefusedError otherwise."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {exc}") from exc
    if not statements:
        raise QueryRefusedError("empty query; give one SELECT statement")
    if len(statements) > 1:
        raise QueryRefusedError(f"{len(statements)} statements given; run one statement at a time")
    statement = statements[0]
    text = statement.query.strip()
    if statement.type == _ST.EXPLAIN:
        # EXPLAIN ANALYZE runs its statement: classify what it explains.
        inner = _EXPLAIN.sub("", text, count=1)
        if inner != text:
            check_query(inner)
        return text
    if statement.type not in _ALLOWED:
        raise _refuse(text, _REFUSALS.get(statement.type, f"is a {statement.type.name} statement"))
    return text


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The rows of one query, as Python values."""

    columns: tuple[str, ...]
    # DuckDB type names, e.g. "VARCHAR", "TIMESTAMP WITH TIME ZONE".
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    # True when the query had more rows than the ``max_rows`` asked for.
    truncated: bool = False


class QuerySession:
    """One locked-down read-only connection; every call is checked and time-limited."""

    def __init__(self, con: duckdb.DuckDBPyConnection, timeout: float) -> None:
        self._con = con
        self._timeout = timeout

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Interrupt the connection after the timeout; translate DuckDB's errors."""
        timer = threading.Timer(self._timeout, self._con.interrupt) if self._timeout else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            yield
        except duckdb.InterruptException as exc:
            raise QueryTimeoutError(
                f"query stopped after {self._timeout:g} s; narrow it (WHERE, LIMIT) "
                "or allow more time with --timeout"
            ) from exc
        except duckdb.PermissionException as exc:
            raise QueryRefusedError(
                "refused: the query reads or writes files or settings outside the database "
                f"({_first_line(exc)}); `newsradar sql` only reads the database"
            ) from exc
        except duckdb.IOException:
            raise  # the file, not the query: open_reader names the damaged database
        except duckdb.Error as exc:
            raise StoreError(f"SQL error: {str(exc).strip()}") from exc
        finally:
            if timer is not None:
                timer.cancel()

    def fetch(self, sql: str, *, max_rows: int | None = None) -> QueryResult:
        """Run one read-only statement and return its rows (at most ``max_rows``)."""
        statement = check_query(sql)
        with self._guard():
            cursor = self._con.execute(statement)
            columns, types = _describe(cursor)
            if max_rows is None:
                return QueryResult(columns, types, cursor.fetchall())
            rows = cursor.fetchmany(max_rows + 1)
            if len(rows) > max_rows:
                # The connection refuses other work while a result is half read.
                cursor.abort()
        return QueryResult(columns, types, rows[:max_rows], truncated=len(rows) > max_rows)

    def stream(self, sql: str, *, chunk: int = 10_000) -> tuple[tuple[str, ...], Iterator[Any]]:
        """Column names and an iterator of rows, fetched ``chunk`` at a time."""
        statement = check_query(sql)
        with self._guard():
            cursor = self._con.execute(statement)
            columns, _ = _describe(cursor)

        def rows() -> Iterator[Any]:
            done = False
            try:
                while not done:
                    with self._guard():
                        batch = cursor.fetchmany(chunk)
                    done = not batch
                    yield from batch
            finally:
                if not done:
                    cursor.abort()

        return columns, rows()

    def write_parquet(self, sql: str, output: Path) -> None:
        """Write the result of one read-only statement to a Parquet file (an allowed path)."""
        statement = check_query(sql)
        with self._guard():
            self._con.sql(statement).write_parquet(str(output))


def _describe(cursor: duckdb.DuckDBPyConnection) -> tuple[tuple[str, ...], tuple[str, ...]]:
    description = cursor.description or []
    return tuple(d[0] for d in description), tuple(str(d[1]) for d in description)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextmanager
def query_session(
    path: Path,
    *,
    timeout: float = 30.0,
    lock_timeout: float = 60.0,
    output: Path | None = None,
) -> Iterator[QuerySession]:
    """A read-only, locked-down session on the database; the file is released on exit.

    ``output`` is the one file the session may write (for Parquet results); nothing else
    outside the database can be read or written. ``timeout`` (seconds, 0 for none) bounds
    each query; ``lock_timeout`` bounds the wait for a writer to release the file.
    """
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
    }
    with open_reader(path, lock_timeout=lock_timeout, config=config) as con:
        if output is not None:
            con.execute("SET allowed_paths = ?", [[str(output.resolve())]])
        # Order matters: after lock_configuration nothing can be switched back on.
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield QuerySession(con, timeout)
