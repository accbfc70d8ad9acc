"""``make demo``: one full pass, offline, against a loopback news site and SMTP server.

The demo keeps its database under ``data/demo/``, so running it again shows that nothing is
stored or mailed twice.
"""

from __future__ import annotations

import shutil
import socket
import sys
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from rich.console import Console
from rich.table import Table

from newsradar.cli import main as cli_main
from newsradar.demo.server import SiteServer
from newsradar.store import open_reader

console = Console()
REPO_CONFIG = Path("config")


class Inbox:
    """aiosmtpd handler that saves every accepted mail as an .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(list(self.folder.iterdir())) + 1:04d}.eml"
        path.write_bytes(envelope.content)
        subject = str(message_from_bytes(envelope.content).get("Subject", ""))
        self.received.append((list(envelope.rcpt_tos), subject))
        return "250 OK"


def free_port() -> int:
    """A port that was free a moment ago (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, site: str, smtp_port: int) -> Path:
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "newsradar.toml").write_text(
        f"""[storage]
database = "../newsradar.duckdb"

[fetch]
allow_networks = ["127.0.0.1/32"]
min_host_delay = 0

[alerts]
outbox_dir = "../outbox"
recipients = ["analyst@example.org"]

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
sender = "newsradar-demo@example.org"
"""
    )
    (config / "feeds.toml").write_text(
        f'[[feed]]\nname = "harbour-wire"\nurl = "{site}/feed.xml"\n'
    )
    shutil.copyfile(REPO_CONFIG / "watchlist.toml", config / "watchlist.toml")
    return config


def show_matches(database: Path) -> None:
    """One row per new article: the watches it matched and the words that made them fire."""
    with open_reader(database) as con:
        rows = con.execute(
            """
            SELECT a.title, m.watch_id, list(DISTINCT m.text ORDER BY m.text)
            FROM matches m JOIN articles a ON a.id = m.article_id
            WHERE a.run_id = (SELECT id FROM runs ORDER BY started_at DESC LIMIT 1)
            GROUP BY ALL ORDER BY min(a.published_at), a.title, m.watch_id
            """
        ).fetchall()
    if not rows:
        console.print("No new matches in this pass (everything was stored before).")
        return
    table = Table("article", "watch", "matched words", title="New matches", title_justify="left")
    previous = None
    for title, watch, words in rows:
        table.add_row("" if title == previous else title, watch, ", ".join(words))
        previous = title
    console.print(table)


def main() -> int:
    folder = Path("data/demo")
    inbox = Inbox(folder / "received")
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with SiteServer() as site:
            console.print(f"Sample site on {site.base}, SMTP on 127.0.0.1:{smtp.port}")
            config = write_config(folder, site.base, smtp.port)
            code = cli_main(["run", "--config", str(config)])
    finally:
        smtp.stop()
    if code != 0:
        return code
    show_matches(folder / "newsradar.duckdb")
    if inbox.received:
        for rcpts, subject in inbox.received:
            console.print(f"Mail to {', '.join(rcpts)}: {subject}")
        console.print(f"Saved in {inbox.folder}/")
    else:
        console.print("No new mail this time (everything was alerted before).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
