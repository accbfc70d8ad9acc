"""``newsradar match``: run a watchlist over files, without a database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from newsradar.cli.app import ConfigDir, app, console, console_err
from newsradar.config import WATCHLIST_FILE, load_watchlist
from newsradar.errors import NewsradarError
from newsradar.extract import decode_html, extract_page
from newsradar.magic import is_binary
from newsradar.match import Document, Matcher
from newsradar.models import Mention
from newsradar.snippet import snippet

__all__ = ["Unreadable", "match_command", "match_files", "read_document"]

HTML_SUFFIXES = {".html", ".htm"}
TEXT_SUFFIXES = {".txt"}
# Line breaks JSON leaves raw but str.splitlines() splits at: escaped, one record per line.
_LINE_BREAKS = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"})


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


class Unreadable(NewsradarError):
    """A file that is not matched: binary (``failed`` False) or not readable (True)."""

    def __init__(self, path: Path, reason: str, *, failed: bool) -> None:
        super().__init__(f"{path}: {reason}")
        self.failed = failed


def read_document(path: Path) -> Document:
    """A ``.txt`` file is the body as is; an ``.html``/``.htm`` file is extracted first.

    Text is decoded like a page (BOM, UTF-8, then a detector), so a UTF-16 or Latin-1 file is
    read, not turned into replacement characters. Raises :class:`Unreadable` for a binary
    file, and for one that cannot be read or is not a regular file (a FIFO would block).
    """
    if not path.is_file():
        raise Unreadable(path, "not a regular file; pass .txt or .html files", failed=True)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(path, f"cannot be read ({exc.strerror or exc})", failed=True) from exc
    if is_binary(data):
        raise Unreadable(path, "binary, not text", failed=False)
    if path.suffix.lower() in HTML_SUFFIXES:
        page = extract_page(data)
        return Document(title=page.title or "", body=page.text, lang=page.language)
    return Document(title="", body=decode_html(data))


def match_files(
    matcher: Matcher, paths: list[Path], skip: Callable[[Unreadable], None]
) -> Iterator[tuple[Path, Document, dict[str, list[Mention]]]]:
    """Each file under ``paths`` with its document and the mentions per firing watch;
    ``skip`` is told about each file that is not matched."""
    for path in _files(paths):
        try:
            doc = read_document(path)
        except Unreadable as exc:
            skip(exc)
            continue
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
    failed: list[Unreadable] = []

    def skip(exc: Unreadable) -> None:
        console_err.print(f"skipped {exc}", markup=False, highlight=False, soft_wrap=True)
        if exc.failed:
            failed.append(exc)

    for path, doc, found in match_files(matcher, paths, skip):
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
                    typer.echo(json.dumps(record, ensure_ascii=False).translate(_LINE_BREAKS))
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
    if failed:
        raise typer.Exit(1)
