"""`newsradar serve` as a service: a scheduled pass lands in the database; SIGTERM stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from newsradar.demo.__main__ import free_port
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, serve_seed


def prefect_servers(port: int) -> list[int]:
    """PIDs of live `prefect server start` processes on ``port``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"server" in argv and b"start" in argv and str(port).encode() in argv and state != "Z":
            pids.append(int(entry.name))
    return pids


def completed_runs(database: Path) -> int:
    """Count completed passes; the serving process may hold the file, so try briefly."""
    if not database.exists():
        return 0
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            row = con.execute("SELECT count(*) FROM runs WHERE status = 'completed'").fetchone()
    except duckdb.Error:  # locked by a pass in progress, or not migrated yet
        return 0
    return int(row[0]) if row else 0


def test_serve_runs_a_scheduled_pass_and_stops_cleanly_on_sigterm(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    serve_seed(http_server)
    feeds = f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n'
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)
    port = free_port()
    settings = config / "newsradar.toml"
    settings.write_text(
        settings.read_text() + f'\n[schedule]\ningest = "* * * * *"\nserver_port = {port}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [sys.executable, "-m", "newsradar", "serve", "--config", str(config)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    database = config / "data" / "newsradar.duckdb"
    try:
        # The server starts in ~10 s (a minute on a loaded machine: a fresh database is
        # migrated), then the cron fires at the next minute boundary.
        deadline = time.monotonic() + 150
        while completed_runs(database) == 0 and time.monotonic() < deadline:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(1)
        assert completed_runs(database) >= 1, (tmp_path / "serve.log").read_text()
        assert prefect_servers(port), "the child Prefect server should be running"

        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=30)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        log.close()

    output = (tmp_path / "serve.log").read_text()
    assert code == 0, output
    assert f"Prefect UI: http://127.0.0.1:{port}" in " ".join(output.split())
    assert "Traceback" not in output
    assert "Stopped." in output
    assert prefect_servers(port) == []
    assert (config / "data" / "prefect" / "prefect.db").exists()
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (2,)
