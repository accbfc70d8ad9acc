"""A pass killed with SIGKILL leaves nothing that blocks or duplicates the next one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from flows.ingest import ingest
from prefect.settings import get_current_settings

from newsradar.config import load_config
from newsradar.demo.__main__ import free_port
from tests.conftest import SmtpSink, write_config
from tests.loopback import LoopbackHTTPServer, Request, Response, wait_for
from tests.sample_site import SEED, WATCHLIST, html_page, serve_seed


def _start_pass(config: Path) -> subprocess.Popen[bytes]:
    """A pass in its own process, on the test's Prefect server: the one to kill."""
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from flows.ingest import ingest; ingest(sys.argv[1])",
         str(config)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.usefixtures("prefect_harness")
def test_a_pass_killed_mid_run_does_not_block_the_next(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    serve_seed(http_server)
    release = threading.Event()
    page = html_page("NATO chief visits South Korea and Japan", SEED).encode()

    def first_request_hangs(request: Request) -> Response:
        if http_server.hits("/seed.html") == 1:
            release.wait(60)
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    http_server.route("/seed.html", handler=first_request_hangs)
    feeds = f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n'
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)
    lock = load_config(config).storage.database.with_suffix(".lock")
    victim = _start_pass(config)
    try:
        # Killed while it holds the run lock and waits for an article page.
        assert wait_for(lambda: http_server.hits("/seed.html") == 1, timeout=60)
        assert lock.read_text() == str(victim.pid)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
    finally:
        release.set()
        if victim.poll() is None:
            victim.kill()

    summary = ingest(str(config))

    assert summary.articles_stored == 2
    assert summary.alerts_sent == 8
    with duckdb.connect(str(load_config(config).storage.database), read_only=True) as con:
        runs = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        alerts = con.execute("SELECT count(*), count(DISTINCT id) FROM alerts").fetchone()
    # The next pass records the killed one; nothing it started was stored twice.
    assert runs == {"interrupted": 1, "completed": 1}
    assert alerts == (8, 8)


class _HoldsSecondRecipient(SmtpSink):
    """Accepts a@'s mail, then holds the first mail for b@ without an answer until released."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if "b@example.org" in envelope.rcpt_tos and not self.holding.is_set():  # type: ignore[attr-defined]
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 gone"  # the sender was killed meanwhile: nobody reads this
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.usefixtures("prefect_harness")
def test_a_pass_killed_while_mailing_resends_only_under_the_same_message_ids(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    """RELIABILITY E33: SIGKILL after one recipient's mail was accepted and while the next one
    is being sent. The next pass sends what is owed, each digest under the Message-ID it was
    claimed with, and queues no alert twice."""
    serve_seed(http_server)
    sink = _HoldsSecondRecipient()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = (
        '[storage]\ndatabase = "db.duckdb"\nlock_timeout = 5\n'
        '[alerts]\noutbox_dir = "outbox"\nrecipients = ["a@example.org", "b@example.org"]\n'
        '[fetch]\nallow_networks = ["127.0.0.1/32"]\nmin_host_delay = 0\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\ntls = "none"\n'
        'sender = "radar@example.org"\ntimeout = 60\n'
    )
    feeds = f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n'
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST, settings=settings)
    victim = _start_pass(config)
    try:
        assert sink.holding.wait(120), "the pass never reached its second mail"
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
        sink.release.set()

        summary = ingest(str(config))
    finally:
        sink.release.set()
        if victim.poll() is None:
            victim.kill()
        smtp.stop()

    assert summary.articles_stored == 0  # stored by the killed pass, once
    # a@'s digest was marked sent as soon as it was accepted: it is not sent again. b@'s was
    # never accepted: the next pass sends it, under the id the killed pass claimed it with.
    received = {r: str(m["Message-ID"]) for _, recipients, m in sink.messages for r in recipients}
    assert sorted(r for _, recipients, _ in sink.messages for r in recipients) == [
        "a@example.org",
        "b@example.org",
    ]
    assert summary.alerts_sent > 0
    with duckdb.connect(str(load_config(config).storage.database), read_only=True) as con:
        statuses = con.execute("SELECT DISTINCT status FROM alerts").fetchall()
        duplicates = con.execute(
            "SELECT recipient, watch_id, story_id FROM alerts GROUP BY ALL HAVING count(*) > 1"
        ).fetchall()
        claimed = con.execute("SELECT DISTINCT recipient, digest_id FROM alerts").fetchall()
    assert all(digest in received[recipient] for recipient, digest in claimed), (claimed, received)
    assert statuses == [("sent",)]
    assert duplicates == []
