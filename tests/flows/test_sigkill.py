"""A pass killed with SIGKILL leaves nothing that blocks or duplicates the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from flows.ingest import ingest
from prefect.settings import get_current_settings

from newsradar.config import load_config
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer, Request, Response, wait_for
from tests.sample_site import SEED, WATCHLIST, html_page, serve_seed


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
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    victim = subprocess.Popen(
        [sys.executable, "-c", "import sys; from flows.ingest import ingest; ingest(sys.argv[1])",
         str(config)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
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
