"""Bulk loading: DuckDB's appender instead of ``executemany``.

``executemany`` runs one INSERT per row, which costs DuckDB about a millisecond of CPU per
row; the appender loads the rows in one columnar step, about 100x faster.
"""

from __future__ import annotations

import duckdb

__all__ = ["Row", "append_rows", "insert_new"]

Row = tuple[object, ...]


def append_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], rows: list[Row]
) -> None:
    """Append rows that cannot collide with stored keys (or to a table without keys)."""
    if rows:
        appender = con.appender(table, columns=list(columns))
        appender.append_rows(rows)
        appender.flush()


def insert_new(
    con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], rows: list[Row]
) -> None:
    """Insert the rows whose key is not stored yet: staged by the appender, then one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    if not rows:
        return
    stage = f"stage_{table}"
    names = ", ".join(f'"{c}"' for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {names} FROM {table} LIMIT 0")  # noqa: S608
    append_rows(con, stage, columns, rows)
    con.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING"  # noqa: S608
    )
    con.execute(f"DROP TABLE {stage}")
