"""``newsradar sql``: read-only ad-hoc SQL on the database."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table

from newsradar.cli.app import ConfigDir, app, console, refuse_database_output
from newsradar.config import load_config
from newsradar.store.reader import QueryResult, query_session

__all__ = ["Format", "MaxRows", "QueryTimeout", "render_table", "sql", "write_rows"]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def render_table(result: QueryResult) -> Table:
    """A Rich table of a query result; NULL shown as such, a note when rows were cut."""
    table = Table(show_lines=False, header_style="bold")
    for name in result.columns:
        table.add_column(name, overflow="fold")
    for row in result.rows:
        table.add_row(*("[dim]NULL[/]" if v is None else _escape(str(v)) for v in row))
    shown = len(result.rows)
    table.caption = f"{shown} row{'s' if shown != 1 else ''}" + (
        " shown; more not shown (use LIMIT, or --format csv --output FILE)"
        if result.truncated
        else ""
    )
    return table


def _escape(text: str) -> str:
    # Values come from the internet (titles, snippets): never let them be Rich markup.
    return text.replace("[", r"\[")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _key(key: Any) -> Any:
    """A MAP's key as a JSON object key: JSON keys are text, and ``json`` refuses dates, decimals
    and NaN as keys (``histogram()`` of a date column is keyed by dates)."""
    if key is None or isinstance(key, str | int | bool):
        return key
    if isinstance(key, float) and math.isfinite(key):
        return key
    try:
        return str(_jsonable(key))
    except TypeError:
        return str(key)


def _finite(value: Any) -> Any:
    """NaN and infinities as None: JSON has no such numbers, and JSON Lines readers refuse them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): _finite(v) for k, v in value.items()}
    return value


def _csv_cell(value: Any) -> Any:
    """NULL as an empty cell; a BLOB as hex, as in JSON (not Python's b'...' spelling)."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def write_rows(fmt: str, columns: tuple[str, ...], rows: Iterable[Any], out: IO[str]) -> int:
    """Write rows as CSV (with a header) or JSON Lines (one object per row); return the count."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(_csv_cell(v) for v in row)
            count += 1
    else:
        for row in rows:
            record = {c: _finite(v) for c, v in zip(columns, row, strict=True)}
            line = json.dumps(record, default=_jsonable, ensure_ascii=False, allow_nan=False)
            out.write(line + "\n")
            count += 1
    return count


QueryTimeout = Annotated[
    float, typer.Option(help="Interrupt a query after this many seconds (0: never).", min=0)
]
MaxRows = Annotated[
    int, typer.Option("--max-rows", help="Rows shown in a table; more are cut, with a note.", min=1)
]


@contextmanager
def _open_output(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as fh:
        yield fh


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SELECT statement (or WITH, FROM, DESCRIBE).")],
    config: ConfigDir = Path("config"),
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table (default), csv, json or parquet.")
    ] = Format.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (required for parquet).", dir_okay=False
        ),
    ] = None,
    timeout: QueryTimeout = 30.0,
    max_rows: MaxRows = 1000,
) -> None:
    """Run read-only SQL on the database and print the result.

    The database is opened read-only with file access and settings locked; writes, COPY,
    ATTACH, INSTALL/LOAD, SET and file functions are refused. While a pass is writing, the
    command waits up to \\[storage] lock_timeout seconds.

    Example: newsradar sql "SELECT watch_id, count(*) FROM matches GROUP BY ALL" --format csv
    """
    cfg = load_config(config)
    if fmt is Format.parquet and output is None:
        raise typer.BadParameter("parquet needs --output FILE", param_hint="--format")
    if fmt is Format.table and output is not None:
        raise typer.BadParameter("use --format csv, json or parquet with --output")
    database = cfg.storage.database
    if output is not None:
        refuse_database_output(database, output)
    with query_session(
        database,
        timeout=timeout,
        lock_timeout=cfg.storage.lock_timeout,
        output=output if fmt is Format.parquet else None,
    ) as session:
        if fmt is Format.parquet:
            assert output is not None
            session.write_parquet(query, output)
        elif fmt is Format.table:
            console.print(render_table(session.fetch(query, max_rows=max_rows)))
        else:
            columns, rows = session.stream(query)
            with _open_output(output) as out:
                write_rows(fmt.value, columns, rows, out)
