"""The Typer application and the options every command shares."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newsradar.errors import NewsradarError
from newsradar.store import is_database_file

__all__ = [
    "ConfigDir",
    "app",
    "console",
    "console_err",
    "refuse_database_output",
    "write_output",
]

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


def refuse_database_output(database: Path, output: Path) -> None:
    """Usage error (exit 2) when ``--output`` names the database: writing it would wipe it."""
    if is_database_file(database, output):
        raise typer.BadParameter(
            f"{output} is the database (or its log) of this configuration; writing it would "
            "destroy the data. Choose another file.",
            param_hint="--output",
        )


def write_output(output: Path, text: str, what: str = "") -> None:
    """Write ``text`` to the file ``--output`` names; a refusal of the file system is one line.

    ``what`` names the contents in the message ("the preview").
    """
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise NewsradarError(
            f"cannot write {what + ' to ' if what else ''}{output}: {exc.strerror or exc}; "
            "choose a writable file with --output"
        ) from None
