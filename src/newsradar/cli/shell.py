"""``newsradar shell``: an interactive read-only SQL prompt that never holds the file for long."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from rich.markup import escape

from newsradar.cli.app import ConfigDir, app, console, console_err
from newsradar.cli.sql import MaxRows, QueryTimeout, render_table
from newsradar.config import load_config
from newsradar.errors import NewsradarError
from newsradar.store.reader import query_session

__all__ = ["shell"]

PROMPT = "newsradar> "
CONTINUE = "       ...> "
HELP = """\
End each statement with ';'. The database is opened for one statement at a time, so a
scheduled pass is never blocked for longer than one query.
  .tables          tables and views
  .schema NAME     columns of a table or view
  .help            this text
  .quit            leave (or Ctrl-D)
Example: SELECT * FROM daily_counts ORDER BY day DESC LIMIT 10;"""

_DOT_COMMANDS = {".tables": "SHOW TABLES", ".schema": "DESCRIBE {}"}


def _read_line(interactive: bool) -> Callable[[str], str | None]:
    """A function that shows a prompt (when interactive) and returns a line, None at the end."""
    if interactive:

        def ask(prompt: str) -> str | None:
            try:
                return input(prompt)
            except EOFError:
                console.print()
                return None

        return ask

    def read(_prompt: str) -> str | None:
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None

    return read


def _statements(read_line: Callable[[str], str | None]) -> Iterator[str]:
    """Complete statements (ending in ';') and dot commands, in order."""
    buffer: list[str] = []
    while (line := read_line(CONTINUE if buffer else PROMPT)) is not None:
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            yield stripped
            continue
        if stripped or buffer:
            buffer.append(line)
        if stripped.endswith(";"):
            yield "\n".join(buffer)
            buffer = []
    if "".join(buffer).strip():
        yield "\n".join(buffer)


def _translate(command: str) -> str | None:
    """SQL for a dot command, None to quit; raises ValueError for an unknown one."""
    name, _, arg = command.partition(" ")
    if name in (".quit", ".exit", ".q"):
        return None
    if name == ".schema" and not arg.strip():
        return "SELECT table_name, column_name, data_type FROM information_schema.columns"
    if name in _DOT_COMMANDS:
        return _DOT_COMMANDS[name].format(arg.strip().strip(";"))
    raise ValueError(name)


@app.command()
def shell(
    config: ConfigDir = Path("config"),
    timeout: QueryTimeout = 30.0,
    max_rows: MaxRows = 200,
) -> None:
    """Interactive read-only SQL prompt on the database.

    Each statement opens the database, runs, and closes it again, so a scheduled pass waits
    at most for one query. Statements end with ';'. They can also be piped in:
    echo "SELECT * FROM daily_counts LIMIT 5;" | newsradar shell

    Example: newsradar shell --config config
    """
    cfg = load_config(config)
    interactive = sys.stdin.isatty()
    if interactive:
        console.print(f"newsradar shell on {cfg.storage.database}; .help for help")
    failures = 0
    for statement in _statements(_read_line(interactive)):
        if statement.startswith("."):
            if statement.split()[0] == ".help":
                console.print(HELP, highlight=False, markup=False)
                continue
            try:
                translated = _translate(statement)
            except ValueError:
                console_err.print(f"unknown command {statement.split()[0]}; try .help")
                failures += 1
                continue
            if translated is None:
                break
            statement = translated
        try:
            with query_session(
                cfg.storage.database, timeout=timeout, lock_timeout=cfg.storage.lock_timeout
            ) as session:
                result = session.fetch(statement, max_rows=max_rows)
        except NewsradarError as exc:
            # Escaped: messages quote "[storage] lock_timeout", which Rich would swallow.
            console_err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            failures += 1
            continue
        console.print(render_table(result))
    if failures and not interactive:
        # Piped scripts learn that something failed.
        raise typer.Exit(1)
