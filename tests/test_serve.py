"""`newsradar serve` as a service: a scheduled pass lands in the database, a configuration broken
while it serves fails passes in one line and a `runs` row until fixed; SIGTERM stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx

from newsradar.demo.__main__ import free_port
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.processes import all_gone, with_environment
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


def count_runs(database: Path, status: str = "completed") -> int:
    """Count passes with ``status``; the serving process may hold the file, so try briefly."""
    if not database.exists():
        return 0
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            row = con.execute("SELECT count(*) FROM runs WHERE status = ?", [status]).fetchone()
    except duckdb.Error:  # locked by a pass in progress, or not migrated yet
        return 0
    return int(row[0]) if row else 0


def run_ingest_now(api_url: str) -> None:
    """Ask the served ingest deployment for a run now, as "Quick run" in the UI does."""
    found = httpx.get(f"{api_url}/deployments/name/ingest/ingest", timeout=10)
    found.raise_for_status()
    url = f"{api_url}/deployments/{found.json()['id']}/create_flow_run"
    for _ in range(10):
        answer = httpx.post(url, json={}, timeout=10)
        # 503: Prefect's SQLite database was busy (a loaded machine); the UI's user retries.
        if answer.status_code != 503:
            break
        time.sleep(1)
    answer.raise_for_status()


def wait_for_runs(serve: subprocess.Popen[bytes], log: Path, database: Path, status: str,
                  count: int, timeout: float) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while count_runs(database, status) < count and time.monotonic() < deadline:
        assert serve.poll() is None, log.read_text()
        time.sleep(0.5)
    assert count_runs(database, status) >= count, log.read_text()


def test_serve_runs_passes_through_a_broken_configuration_and_stops_cleanly_on_sigterm(
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
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"  # a run asked for now starts within a second
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [sys.executable, "-m", "newsradar", "serve", "--config", str(config)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    database = config / "data" / "newsradar.duckdb"
    try:
        # The server starts in ~10 s (a minute on a loaded machine: a fresh database is
        # migrated), then the cron fires at the next minute boundary.
        wait_for_runs(serve, tmp_path / "serve.log", database, "completed", 1, timeout=150)
        assert prefect_servers(port), "the child Prefect server should be running"

        # The user breaks the settings while serve runs: [storage] cannot be read any more,
        # so the failed pass is recorded in the database serve started with.
        good = settings.read_text()
        settings.write_text(good + "\n[newsradar\n")
        run_ingest_now(f"http://127.0.0.1:{port}/api")
        wait_for_runs(serve, tmp_path / "serve.log", database, "failed", 1, timeout=60)
        settings.write_text(good)
        run_ingest_now(f"http://127.0.0.1:{port}/api")
        wait_for_runs(serve, tmp_path / "serve.log", database, "completed", 2, timeout=60)

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
    broken = [line for line in output.splitlines() if "configuration error:" in line]
    assert broken and f"{settings}: not valid TOML (Expected ']'" in " ".join(broken[0].split())
    assert "Stopped." in output
    assert prefect_servers(port) == []
    # Each pass ran in its own process, with a forkserver, its workers and a resource tracker:
    # none of them outlives serve, orphaned or not.
    left = with_environment("PREFECT_HOME", env["PREFECT_HOME"])
    assert all_gone(left, timeout=30), [Path(f"/proc/{p}/cmdline").read_bytes() for p in left]
    assert (config / "data" / "prefect" / "prefect.db").exists()
    with duckdb.connect(str(database), read_only=True) as con:
        # Parsed in the pass's parser workers, extracted in its extraction workers.
        assert con.execute("SELECT status, count(*) FROM articles GROUP BY ALL").fetchall() == [
            ("ok", 2)
        ]
