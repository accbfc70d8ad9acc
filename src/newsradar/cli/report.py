"""``newsradar report``: the trends report as one self-contained HTML file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from newsradar.cli.app import ConfigDir, app, console, console_err, refuse_database_output
from newsradar.config import load_config

__all__ = ["parse_since", "report"]

_SINCE = re.compile(r"^\s*(\d+)\s*([dw])\s*$", re.I)


def parse_since(text: str) -> int:
    """'14d' -> 14, '2w' -> 14; a period of 1 to 366 days. ``ValueError`` says what is valid."""
    found = _SINCE.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a period; use days or weeks, e.g. 14d or 2w")
    days = int(found[1]) * (7 if found[2].lower() == "w" else 1)
    if not 1 <= days <= 366:
        raise ValueError(f"{text!r}: choose between 1d and 366d")
    return days


@app.command()
def report(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="HTML file to write.", dir_okay=False),
    ],
    config: ConfigDir = Path("config"),
    since: Annotated[
        str, typer.Option("--since", help="Period ending today: days or weeks, e.g. 14d, 4w.")
    ] = "14d",
    watch: Annotated[
        list[str] | None,
        typer.Option("--watch", "-w", help="Only this watch (repeat for several); default all."),
    ] = None,
) -> None:
    """Write the trends report: stories per day, spikes, top outlets, latest stories.

    One self-contained HTML file that opens offline (charts inline, nothing loaded remotely).

    Example: newsradar report --config config --since 30d --watch nato --output trends.html
    """
    try:
        days = parse_since(since)
    except ValueError as exc:
        console_err.print(f"[bold red]usage error:[/] --since {exc}", highlight=False)
        raise SystemExit(2) from None
    cfg = load_config(config)
    refuse_database_output(cfg.storage.database, output)
    # Here, not at the top: it loads matplotlib (~0.35 s), which no other command needs.
    from newsradar.report import write_report

    result = write_report(cfg, output, days=days, watch_ids=watch or ())
    spikes = sum(len(w.scan.spikes) for w in result.watches)
    console.print(
        f"wrote {output} ({len(result.watches)} watches, {result.start} to {result.end}, "
        f"{spikes} spike day{'s' if spikes != 1 else ''})",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
