"""The Typer application and the options every command shares."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["ConfigDir", "app", "console", "console_err"]

app = typer.Typer(
    name="newsradar",
    help="Monitor news feeds for the actors and topics you track.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _console(stream: object, *, stderr: bool = False) -> Console:
    """A terminal gets Rich's defaults. Output to cron mail or a log file is never wrapped:
    Rich would cut sentences and URLs at 80 columns there, and grep would find neither."""
    isatty = getattr(stream, "isatty", None)
    if (callable(isatty) and isatty()) or "COLUMNS" in os.environ:
        return Console(stderr=stderr)
    # Tables are only as wide as their content: this width is never filled, only never hit.
    return Console(stderr=stderr, soft_wrap=True, width=10_000)


console = _console(sys.stdout)
console_err = _console(sys.stderr, stderr=True)

ConfigDir = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        help="Configuration directory holding newsradar.toml, feeds.toml and watchlist.toml.",
        file_okay=False,
    ),
]
