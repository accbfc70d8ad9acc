"""``newsradar rematch``: backtest the current watchlist on stored articles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from newsradar.backtest import backtest
from newsradar.cli.app import ConfigDir, app, console
from newsradar.config import Config, load_config
from newsradar.match import Matcher
from newsradar.mentions import watch_rows
from newsradar.runlock import pass_lock
from newsradar.store import open_reader, open_writer
from newsradar.store.rematch import load_articles, load_matches, replace_matches
from newsradar.store.writer import sync_watches

__all__ = ["rematch_command"]


@app.command("rematch")
def rematch_command(
    config: ConfigDir = Path("config"),
    since: Annotated[
        datetime | None,
        typer.Option(
            help="Only articles published (or fetched) on or after this date (UTC).",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report; change nothing in the database.")
    ] = False,
) -> None:
    """Apply the current watchlist to stored articles; report per watch what it gains and loses.

    Without --dry-run, the stored matches of changed watches are replaced (no alerts are sent
    for old articles); it then waits for a running pass to finish (up to \\[storage]
    lock_timeout), so that no article the pass re-matches is overwritten with stale matches.

    Example: newsradar rematch --config config --since 2026-01-01 --dry-run
    """
    cfg = load_config(config)
    matcher = Matcher.compile(cfg.watches, source=str(cfg.watchlist_path))
    start = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    if dry_run:
        _rematch(cfg, matcher, start, dry_run=True)
        return
    # From the read to the write, no pass may store or re-match articles.
    with pass_lock(cfg.storage.database, wait=cfg.storage.lock_timeout, task="rematch"):
        _rematch(cfg, matcher, start, dry_run=False)


def _rematch(cfg: Config, matcher: Matcher, start: datetime | None, *, dry_run: bool) -> None:
    with open_reader(cfg.storage.database, lock_timeout=cfg.storage.lock_timeout) as con:
        articles = load_articles(con, start)
        stored = load_matches(con, start)
    result = backtest(matcher, articles, stored, snippet_chars=cfg.alerts.snippet_chars)

    table = Table("watch", "rule", "articles before", "after", "gained", "lost")
    for diff in result.diffs:
        table.add_row(
            Text(diff.watch_id),
            diff.rule,
            str(len(diff.before)),
            str(len(diff.after)),
            f"+{len(diff.gained)}",
            f"-{len(diff.lost)}",
        )
    console.print(table)
    scope = f"{len(articles)} article(s)" + (f" since {start:%Y-%m-%d}" if start else "")
    if dry_run:
        console.print(f"dry run over {scope}: nothing written", highlight=False)
        return
    now = datetime.now(UTC)
    with open_writer(cfg.storage.database, lock_timeout=cfg.storage.lock_timeout) as con:
        if result.changed:
            replace_matches(con, result.changed, result.article_ids, result.rows, now)
        sync_watches(con, watch_rows(matcher, cfg.watches), now)
    console.print(
        f"replaced the matches of {len(result.changed)} changed watch(es) over {scope}: "
        f"{len(result.rows)} mention(s) stored, no alerts sent",
        highlight=False,
    )
