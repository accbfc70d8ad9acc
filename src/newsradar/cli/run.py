"""``newsradar run``: one monitoring pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from newsradar.cli.app import ConfigDir, app, console, console_err
from newsradar.config import load_config
from newsradar.pipeline import RunSummary, compiled_matcher, start_workers
from newsradar.prefect_env import configure_prefect, quiet_engine_errors
from newsradar.progress import pass_progress
from newsradar.server import require_configured_server, tie_temporary_server

__all__ = ["print_summary", "run"]


def print_summary(summary: RunSummary) -> None:
    """The end-of-pass report: feeds, entries, articles, matches per watch, alerts."""
    console.print(
        f"[bold]Pass {summary.run_id}[/] finished in {summary.seconds:.1f} s: "
        f"{len(summary.feeds_ok)} feeds ok, {len(summary.feeds_failed)} failed, "
        f"{summary.feeds_skipped} not due; {summary.entries_new} new entries, "
        f"{summary.articles_stored} articles stored."
    )
    if summary.feeds_failed:
        table = Table("feed", "error", "detail", title="Feeds that failed", title_justify="left")
        for feed_id, kind, message in summary.feeds_failed:
            # The message starts with the error class, already in its own column.
            # Text: the detail quotes what servers sent, never to be read as markup.
            table.add_row(Text(feed_id), Text(kind), Text(message.removeprefix(f"{kind}: ")[:160]))
        console.print(table)
    if summary.matches_per_watch:
        table = Table("watch", "articles", title="Matches", title_justify="left")
        for watch, count in sorted(summary.matches_per_watch.items(), key=lambda kv: -kv[1]):
            table.add_row(Text(watch), str(count))
        console.print(table)
    else:
        console.print("No new matches.")
    line = f"Alerts: {summary.alerts_sent} sent"
    if summary.alerts_failed:
        line += f", {summary.alerts_failed} failed"
    if summary.alerts_pending:
        line += f", {summary.alerts_pending} pending retry"
    console.print(line + ".")
    for where in summary.deliveries:
        console.print(f"  mail: {where}", highlight=False)
    for problem in summary.alert_problems:
        console_err.print(f"  alert delivery: {problem}", highlight=False, markup=False)


@app.command()
def run(
    config: ConfigDir = Path("config"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect logs.")] = False,
) -> int:
    """Run one monitoring pass: poll feeds, extract, match, store, send alerts.

    Example: newsradar run --config config
    """
    cfg = load_config(config)
    # Compile the watchlist up front so a bad query exits 2 before anything starts.
    compiled_matcher(cfg)
    if cfg.feeds:
        # The worker processes import trafilatura and feedparser while Prefect starts, not
        # while the pass makes its first requests.
        start_workers()
    configure_prefect(verbose=verbose)
    from flows.ingest import ingest  # imported late: Prefect reads its settings on import

    if require_configured_server() is None:  # a PREFECT_API_URL pointing nowhere: exit 1
        tie_temporary_server()  # Prefect starts it; it must not outlive a killed pass

    if not verbose:
        quiet_engine_errors()

    with pass_progress(console):
        summary = ingest(str(config))
    # Only a served run returns a state (skipped); here a held lock raised RunLockedError.
    assert isinstance(summary, RunSummary)
    print_summary(summary)
    return 0
