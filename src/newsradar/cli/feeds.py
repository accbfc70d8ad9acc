"""``newsradar feeds``: feed health worst first; ``feeds import`` / ``feeds export`` (OPML)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from newsradar.atomic import write_atomic
from newsradar.cli.app import ConfigDir, app, console, refuse_database_output, write_output
from newsradar.config import FEEDS_FILE, load_config, load_feeds, load_settings
from newsradar.errors import NewsradarError
from newsradar.health import FeedRow, diagnose, status, worst_first
from newsradar.opml import feeds_toml, outlines_to_feeds, read_opml, write_opml
from newsradar.store import open_reader
from newsradar.store.feeds import load_feed_rows, removed_feeds

__all__ = ["export", "feeds", "feeds_app", "import_"]

# The group's help is the callback's docstring (it carries the example).
feeds_app = typer.Typer(no_args_is_help=False, invoke_without_command=True)
app.add_typer(feeds_app, name="feeds")

_STYLE = {"failing": "red", "silent": "yellow", "never polled": "dim", "ok": "green"}


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    seconds = (value - now).total_seconds()
    span = abs(seconds)
    text = (
        f"{span / 86400:.0f} d"
        if span >= 172_800
        else f"{span / 3600:.0f} h"
        if span >= 7200
        else f"{span / 60:.0f} min"
    )
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _rows(config_dir: Path) -> list[FeedRow]:
    cfg = load_config(config_dir)
    stored: dict[str, FeedRow] = {}
    if cfg.storage.database.exists():
        with open_reader(cfg.storage.database, lock_timeout=cfg.storage.lock_timeout) as con:
            stored = {r.feed_id: r for r in load_feed_rows(con)}
    never = (None, None, None, None, None, None, 0, None, None, None)
    return [stored.get(f.name) or FeedRow(f.name, f.url, *never) for f in cfg.feeds]


@feeds_app.callback()
def feeds(ctx: typer.Context, config: ConfigDir = Path("config")) -> None:
    """Feed health worst first, with a diagnosis; OPML import/export.

    Example: newsradar feeds --config config
    """
    if ctx.invoked_subcommand is not None:
        return
    now = datetime.now(UTC)
    table = Table("feed", "status", "fails", "last success", "next poll", "diagnosis")
    for row in worst_first(_rows(config), now):
        state = status(row, now)
        table.add_row(
            Text(row.feed_id),
            Text(state, style=_STYLE[state]),
            str(row.consecutive_failures),
            _when(row.last_success_at, now),
            _when(row.next_poll_at, now),
            Text(diagnose(row, now)),  # Text: hostile messages are never read as markup
        )
    console.print(table)


@feeds_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="OPML file exported from a feed reader.")],
    config: ConfigDir = Path("config"),
) -> None:
    """Append the feeds of an OPML file to feeds.toml (known URLs are skipped).

    Example: newsradar feeds import subscriptions.opml --config config
    """
    path = config / FEEDS_FILE
    existing = load_feeds(path) if path.exists() else ()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise NewsradarError(f"cannot read {file}: {exc.strerror}") from None
    outlines = read_opml(data, str(file))
    # A removed feed keeps its name (its articles point to it): a new feed must not take it.
    storage = load_settings(config).storage
    removed: dict[str, str] = {}
    if storage.database.exists():
        with open_reader(storage.database, lock_timeout=storage.lock_timeout) as con:
            removed = removed_feeds(con)
    added, skipped = outlines_to_feeds(outlines, existing, removed)
    if added:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        separator = (
            "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        )
        try:
            write_atomic(path, text + separator + feeds_toml(added))
        except OSError as exc:  # disk full, quota, read-only: the user's file stays whole
            raise NewsradarError(
                f"cannot write {path}: {exc.strerror or exc}; {path.name} is unchanged, "
                "free space or make it writable and import again"
            ) from None
        load_feeds(path)  # the file we wrote must load: fail loudly here, not at the next run
    console.print(f"Added {len(added)} feeds to {path}; skipped {len(skipped)}.", highlight=False)
    for reason in skipped:
        console.print(Text(f"  skipped {reason}"))


@feeds_app.command()
def export(
    config: ConfigDir = Path("config"),
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of stdout.", dir_okay=False),
    ] = None,
) -> None:
    """Print the configured feeds as OPML (for feed readers).

    Example: newsradar feeds export --config config -o feeds.opml
    """
    if output is not None:
        refuse_database_output(load_settings(config).storage.database, output)
    document = write_opml(load_feeds(config / FEEDS_FILE))
    if output is None:
        typer.echo(document, nl=False)
        return
    write_output(output, document)
