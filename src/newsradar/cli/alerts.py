"""``newsradar alerts preview`` and ``newsradar alerts send``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from newsradar.alerts.channels import is_channel
from newsradar.alerts.deliver import deliver_pending, prepare_digests
from newsradar.alerts.message import check_address
from newsradar.alerts.render import render_html
from newsradar.cli.app import (
    ConfigDir,
    app,
    console,
    console_err,
    refuse_database_output,
    write_output,
)
from newsradar.config import load_config
from newsradar.runlock import pass_lock
from newsradar.store import open_reader, require_database

__all__ = ["alerts_app", "preview", "send"]

alerts_app = typer.Typer(
    help="Preview and send alert digests.\n\nExample: newsradar alerts send --config config",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command()
def preview(
    config_dir: ConfigDir = Path("config"),
    recipient: Annotated[
        str | None, typer.Option("--recipient", "-r", help="Whose digest (default: the first).")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write.", dir_okay=False)
    ] = Path("newsradar-preview.html"),
) -> None:
    """Render the next digest to an HTML file without sending or marking anything.

    Includes alerts not yet due (e.g. tomorrow's daily digest).

    Example: newsradar alerts preview --recipient analyst@example.org --output digest.html
    """
    config = load_config(config_dir)
    refuse_database_output(config.storage.database, output)
    if recipient is not None and not recipient.strip():
        raise typer.BadParameter("give an address or channel:NAME", param_hint="'--recipient'")
    if recipient is not None and not is_channel(recipient):
        # The outbox holds addresses as the configuration spells them (domain in ASCII).
        with contextlib.suppress(ValueError):
            recipient = check_address(recipient)
    with open_reader(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        digests = prepare_digests(con, config, None, recipient=recipient, claim=False)
    if not digests:
        who = f" for {recipient}" if recipient else ""
        console.print(f"no pending alerts{who}; nothing to preview")
        return
    digest = digests[0]
    write_output(output, render_html(digest, inline_chart=True), "the preview")
    console.print(f"{digest.subject} → {digest.recipient}", highlight=False, markup=False)
    console.print(f"wrote {output}", highlight=False, markup=False)
    others = sorted({d.recipient for d in digests[1:]} - {digest.recipient})
    if others:
        console.print(f"also pending for: {', '.join(others)}", highlight=False, markup=False)


@alerts_app.command()
def send(config_dir: ConfigDir = Path("config")) -> None:
    """Deliver every due alert now: one digest per recipient, by SMTP or as .eml files.

    Waits for a running pass to finish (up to \\[storage] lock_timeout). Exits 1 when delivery
    is blocked (TLS or AUTH refused) so that cron notices.

    Example: newsradar alerts send --config config
    """
    config = load_config(config_dir)
    # Before the lock, which would make the database's directory: nothing is queued yet.
    require_database(config.storage.database)
    # Not while a pass is writing: the pass delivers at its end anyway.
    with pass_lock(config.storage.database, wait=config.storage.lock_timeout, task="alerts send"):
        report = deliver_pending(config)
    if not (report.sent or report.failed or report.retrying or report.pending):
        console.print("no alerts due; nothing sent")
        return
    console.print(
        f"alerts sent: {report.sent}, retrying: {report.retrying}, failed: {report.failed},"
        f" pending: {report.pending}",
        highlight=False,
    )
    for mail in report.mails:
        console.print(f"  {mail}", highlight=False, markup=False)
    for line in report.failures:
        console_err.print(f"failed: {line}", highlight=False, markup=False)
    for line in report.retries:
        console_err.print(f"will retry: {line}", highlight=False, markup=False, soft_wrap=True)
    for line in report.problems:
        console_err.print(f"blocked: {line}", highlight=False, markup=False)
    if report.problems:
        raise typer.Exit(1)
