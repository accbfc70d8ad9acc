"""``newsradar match``: run a watchlist over files, without a database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from newsradar.cli.app import ConfigDir, app, console
from newsradar.config import WATCHLIST_FILE, load_watchlist
from newsradar.extract import extract_page
from newsradar.match import Document, Matcher
from newsradar.models import Mention
from newsradar.snippet import snippet

__all__ = ["match_command", "match_files", "read_document"]

HTML_SUFFIXES = {".html", ".htm"}
TEXT_SUFFIXES = {".txt"}


def _files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in HTML_SUFFIXES | TEXT_SUFFIXES
            )
        else:
            yield path


def read_document(path: Path) -> Document:
    """A ``.txt`` file is the body as is; an ``.html``/``.htm`` file is extracted first."""
    data = path.read_bytes()
    if path.suffix.lower() in HTML_SUFFIXES:
        page = extract_page(data)
        return Document(title=page.title or "", body=page.text, lang=page.language)
    return Document(title="", body=data.decode("utf-8-sig", errors="replace"))


def match_files(
    matcher: Matcher, paths: list[Path]
) -> Iterator[tuple[Path, Document, dict[str, list[Mention]]]]:
    """Each file under ``paths`` with its document and the mentions per firing watch."""
    for path in _files(paths):
        doc = read_document(path)
        yield path, doc, matcher.match(doc)


@app.command("match")
def match_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or directories (.txt, .html, .htm) to match.", exists=True),
    ],
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", "-w", help="Watchlist file (default: DIR/watchlist.toml)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per mention and line.")
    ] = False,
    config: ConfigDir = Path("config"),
) -> None:
    """Show which watches fire on files, with every mention's span: no database needed.

    Example: newsradar match --watchlist config/watchlist.toml story.txt pages/
    """
    source = watchlist or config / WATCHLIST_FILE
    matcher = Matcher.compile(load_watchlist(source), source=str(source))
    files = mentions = 0
    for path, doc, found in match_files(matcher, paths):
        files += 1
        # Text from files is shown as Text objects: never interpreted as console markup.
        table = Table(title=Text(str(path)))
        for column in ("watch", "field", "span"):
            table.add_column(column, no_wrap=True)
        table.add_column("text")
        table.add_column("context", ratio=1)
        for watch_id, hits in found.items():
            for m in hits:
                mentions += 1
                if as_json:
                    record: dict[str, str | int] = {"path": str(path), "watch": watch_id}
                    record |= {"field": m.field, "start": m.start, "end": m.end, "text": m.text}
                    typer.echo(json.dumps(record, ensure_ascii=False))
                    continue
                original = doc.title if m.field == "title" else doc.body
                context = snippet(original, m.start, m.end, 80)
                table.add_row(
                    Text(watch_id), m.field, f"{m.start}-{m.end}", Text(m.text), Text(context)
                )
        if table.row_count:
            console.print(table)
    if not as_json:
        console.print(f"{mentions} mention(s) in {files} file(s)", highlight=False)
