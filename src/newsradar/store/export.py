"""Export the main tables as Parquet or CSV files for tools outside (pandas, Excel, DuckDB)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from newsradar.atomic import replace_durably
from newsradar.errors import StoreError
from newsradar.store.connection import is_database_file, open_reader

__all__ = ["EXPORT_TABLES", "export_tables"]

# Table -> rows exported when a start date is given ($since is a UTC midnight). Matches follow
# their articles so every exported match joins to an exported article.
EXPORT_TABLES: dict[str, str] = {
    "feeds": "SELECT * FROM feeds ORDER BY id",
    "watches": "SELECT * FROM watches ORDER BY id",
    "articles": "SELECT * FROM articles"
    " WHERE $since IS NULL OR coalesce(published_at, fetched_at) >= $since ORDER BY id",
    "matches": "SELECT m.* FROM matches AS m JOIN articles AS a ON a.id = m.article_id"
    " WHERE $since IS NULL OR coalesce(a.published_at, a.fetched_at) >= $since"
    ' ORDER BY m.article_id, m.watch_id, m.field, m."start"',
    "alerts": "SELECT * FROM alerts WHERE $since IS NULL OR created_at >= $since ORDER BY id",
    "runs": "SELECT * FROM runs WHERE $since IS NULL OR started_at >= $since ORDER BY started_at",
    "events": "SELECT * FROM events WHERE $since IS NULL OR logged_at >= $since ORDER BY logged_at",
}


def export_tables(
    database: Path,
    directory: Path,
    *,
    fmt: str = "parquet",
    since: dt.date | None = None,
    lock_timeout: float = 60.0,
) -> dict[str, int]:
    """Write ``<table>.<fmt>`` for each main table into ``directory``; return rows per table.

    ``since`` keeps rows from that UTC day on (articles by publication time, else fetch time).
    """
    if fmt not in ("parquet", "csv"):
        raise StoreError(f"unknown export format {fmt!r}; use parquet or csv")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot write the export to {directory}: {exc.strerror or exc}; "
            "name a directory that can be created"
        ) from None
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC) if since is not None else None
    counts: dict[str, int] = {}
    # Every table goes to a hidden partial file first, renamed only once all are written: a
    # failed or interrupted export never leaves a mix of its tables and a previous export's.
    partial = {table: directory / f".{table}.{fmt}.partial" for table in EXPORT_TABLES}
    for table in EXPORT_TABLES:
        final = directory / f"{table}.{fmt}"
        if final.is_dir() or is_database_file(database, final):
            raise StoreError(
                f"cannot write {final}: it is a directory or the database; "
                "export to another directory"
            )
    try:
        with open_reader(database, lock_timeout=lock_timeout) as con:
            for table, query in EXPORT_TABLES.items():
                counts[table] = _copy(con, table, query, partial[table], fmt, start)
        for table, path in partial.items():
            final = directory / f"{table}.{fmt}"
            try:
                replace_durably(path, final)
            except OSError as exc:
                raise StoreError(
                    f"cannot write {final}: {exc.strerror or exc}; move it away and export again"
                ) from None
    finally:
        for path in partial.values():
            path.unlink(missing_ok=True)
    return counts


def _copy(
    con: duckdb.DuckDBPyConnection,
    table: str,
    query: str,
    target: Path,
    fmt: str,
    start: dt.datetime | None,
) -> int:
    """COPY one table's rows to ``target``; return how many it wrote."""
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER"
    literal = "'" + str(target).replace("'", "''") + "'"
    copy = f"COPY ({query}) TO {literal} ({options})"
    try:
        params = {"since": start} if "$since" in query else {}
        row = con.execute(copy, params).fetchone()
    except duckdb.Error as exc:
        final = target.with_name(f"{table}.{fmt}")
        raise StoreError(f"cannot export table {table} to {final}: {exc}") from exc
    # COPY answers with the number of rows it wrote.
    return int(row[0]) if row else 0
