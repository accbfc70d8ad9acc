"""Shared fixtures: real loopback HTTP and SMTP servers, temporary configurations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from newsradar.demo.__main__ import free_port
from tests.loopback import LoopbackHTTPServer

# Prefect must never phone home from tests.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")


@pytest.fixture
def http_server() -> Iterator[LoopbackHTTPServer]:
    server = LoopbackHTTPServer().start()
    yield server
    server.stop()


class SmtpSink:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        data = envelope.content  # type: ignore[attr-defined]
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(data))  # type: ignore[attr-defined]
        )
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, SmtpSink]]:
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, sink
    controller.stop()


def write_config(
    directory: Path,
    *,
    feeds: str,
    watchlist: str,
    settings: str = "",
) -> Path:
    """Write a configuration directory that allows loopback and keeps data inside it."""
    directory.mkdir(parents=True, exist_ok=True)
    base = (
        '[storage]\ndatabase = "data/newsradar.duckdb"\nlock_timeout = 5\n\n'
        '[alerts]\noutbox_dir = "data/outbox"\nrecipients = ["analyst@example.org"]\n\n'
        '[fetch]\nallow_networks = ["127.0.0.1/32"]\nmin_host_delay = 0\nbackoff_base = 0.05\n'
        "timeout = 5\ndeadline = 10\n"
    )
    (directory / "newsradar.toml").write_text(settings or base)
    (directory / "feeds.toml").write_text(feeds)
    (directory / "watchlist.toml").write_text(watchlist)
    return directory
