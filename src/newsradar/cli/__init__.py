"""The ``newsradar`` command line.

Each command group lives in its own module and registers itself on :data:`app`; this module
turns library errors into one clean line and an exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer
from rich.markup import escape

from newsradar.cli.app import app, console_err
from newsradar.errors import ConfigError, NewsradarError
from newsradar.shutdown import Terminated, sigterm_unwinds

# Every module of this package except `app` defines commands; importing it registers them.
for _module in pkgutil.iter_modules(__path__):
    if _module.name != "app":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["app", "main"]


def _say(label: str, message: str) -> None:
    """One line on stderr, however long: never wrapped, never read as markup."""
    console_err.print(f"[bold red]{label}:[/] {escape(message)}", highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``newsradar`` script."""
    try:
        # SIGTERM (cron's timeout, systemd) unwinds like Ctrl-C: exit handlers close the
        # worker pools and temporary servers.
        with sigterm_unwinds() as terminated:
            code = _dispatch(argv)
        # Typer turns any KeyboardInterrupt into 130, and code on the way may catch it too.
        stopped = terminated.is_set()
    except Terminated:
        stopped = True
    if stopped:
        console_err.print("terminated")
        return 143
    return code


def _dispatch(argv: list[str] | None) -> int:
    """Run the command; library errors become one clean line and an exit code."""
    try:
        command = typer.main.get_command(app)
        result = command.main(args=argv, prog_name="newsradar", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except ConfigError as exc:
        _say("configuration error", str(exc))
        return 2
    except NewsradarError as exc:
        _say("error", str(exc))
        return 1
    except KeyboardInterrupt:
        console_err.print("interrupted")
        return 130
    except SystemExit as exc:  # typer.Exit inside commands
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors and friends
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 130
        # Typer >= 0.20 raises its own vendored click's usage errors (typer._click).
        show = getattr(exc, "show", None)
        if isinstance(exc, typer.TyperException) and callable(show):
            show()
            return int(getattr(exc, "exit_code", 2))
        if os.environ.get("NEWSRADAR_DEBUG"):
            raise
        _say(
            "internal error",
            f"{type(exc).__name__}: {exc}. This is a bug in newsradar;"
            " set NEWSRADAR_DEBUG=1 to see the traceback and report it.",
        )
        return 70
    return 0


if __name__ == "__main__":
    sys.exit(main())
