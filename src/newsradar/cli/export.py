"""``newsradar export``: the main tables as Parquet or CSV files."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from newsradar.cli.app import ConfigDir, app, console
from newsradar.config import load_config
from newsradar.store.export import export_tables

__all__ = ["ExportFormat", "export"]


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-01-31", param_hint="--since"
        ) from None


@app.command()
def export(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Directory to write <table>.parquet or <table>.csv into.", file_okay=False
        ),
    ],
    config: ConfigDir = Path("config"),
    since: Annotated[
        str | None,
        typer.Option(help="Only rows from this UTC day on (YYYY-MM-DD); default: everything."),
    ] = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="parquet (default) or csv.")
    ] = ExportFormat.parquet,
) -> None:
    """Export feeds, watches, articles, matches, alerts, runs and events as files.

    Articles count from their publication time (else fetch time), and the matches of the
    exported articles come with them.

    Example: newsradar export --since 2026-01-01 --format csv exports/
    """
    start = _parse_date(since)
    cfg = load_config(config)
    counts = export_tables(
        cfg.storage.database,
        directory,
        fmt=fmt.value,
        since=start,
        lock_timeout=cfg.storage.lock_timeout,
    )
    for table, rows in counts.items():
        console.print(f"{table:<10} {rows:>10,} rows  {directory / f'{table}.{fmt.value}'}")
