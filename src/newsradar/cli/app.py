"""The Typer application and the options every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newsradar.store import is_database_file

__all__ = ["ConfigDir", "app", "console", "console_err", "refuse_database_output"]

app = typer.Typer(
    name="newsradar",
    help="Monitor news feeds for the actors and topics you track.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

console = Console()
console_err = Console(stderr=True)

ConfigDir = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        help="Configuration directory holding newsradar.toml, feeds.toml and watchlist.toml.",
        file_okay=False,
    ),
]


def refuse_database_output(database: Path, output: Path) -> None:
    """Usage error (exit 2) when ``--output`` names the database: writing it would wipe it."""
    if is_database_file(database, output):
        raise typer.BadParameter(
            f"{output} is the database (or its log) of this configuration; writing it would "
            "destroy the data. Choose another file.",
            param_hint="--output",
        )
