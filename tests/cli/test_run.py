"""``newsradar run``'s end-of-pass report."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from newsradar.cli.app import console
from newsradar.cli.run import print_summary
from newsradar.demo.__main__ import free_port
from newsradar.pipeline import RunSummary
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer, Response, wait_for
from tests.processes import all_gone
from tests.sample_site import WATCHLIST


def test_failed_feed_details_from_servers_are_never_read_as_markup() -> None:
    # The detail quotes what a server sent (here its Content-Type): Rich markup in it must be
    # shown as written, not turned into styles or a terminal hyperlink.
    hostile = "image/[red]png[/red] [link=https://evil.example]x[/link]"
    summary = RunSummary(
        run_id="r", feeds_ok=(), feeds_failed=(("f", "not_a_feed", f"not_a_feed: {hostile}"),),
        feeds_skipped=0, entries_new=0, articles_stored=0, matches_per_watch={"[i]w[/i]": 1},
        alerts_sent=0, alerts_failed=0, alerts_pending=0, deliveries=(), seconds=0.1,
        alert_problems=(),
    )  # fmt: skip
    with console.capture() as captured:
        print_summary(summary)
    # The table wraps long cells: compare without spaces and cell borders.
    text = "".join(c for c in captured.get() if not c.isspace() and c != "│")
    assert "[red]png[/red]" in text and "[link=https://evil.example]" in text
    assert "[i]w[/i]" in text


def test_prefect_api_url_pointing_nowhere_is_one_line_naming_it(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    nowhere = f"http://127.0.0.1:{free_port()}/api"
    env = {**os.environ, "PREFECT_API_URL": nowhere, "PREFECT_HOME": str(tmp_path / "ph")}
    done = subprocess.run(
        [sys.executable, "-m", "newsradar", "run", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, done.stderr
    assert f"PREFECT_API_URL={nowhere}" in lines[0]
    assert "unset PREFECT_API_URL" in lines[0]
    assert not (config / "data" / "newsradar.duckdb").exists()


def test_output_to_a_pipe_or_cron_mail_is_never_wrapped_mid_line(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    # Not a terminal: Rich would cut sentences and URLs at 80 columns (grep finds neither).
    path = "/feeds/" + "a-rather-long-section-name/" * 4 + "rss.xml"
    feeds = f'[[feed]]\nname = "long"\nurl = "{http_server.url(path)}"\n'
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["PREFECT_HOME"] = str(tmp_path / "ph")
    done = subprocess.run(
        [sys.executable, "-m", "newsradar", "run", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("Pass ") and line.endswith("0 articles stored.") for line in lines)
    assert any(http_server.url(path) in line and "http_4xx" in line for line in lines), lines


def _children(pid: int) -> list[tuple[int, bytes]]:
    """(pid, argv) of the live children of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append((int(entry.name), argv))
    return found


def test_the_temporary_prefect_server_dies_with_a_pass_killed_outright(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    # The feed never answers in time, so the pass is still running when it is killed.
    http_server.route("/feed.xml", handler=lambda _req: time.sleep(8) or Response(200, b""))
    feeds = f'[[feed]]\nname = "slow"\nurl = "{http_server.url("/feed.xml")}"\n'
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "ph")
    run = subprocess.Popen(
        [sys.executable, "-m", "newsradar", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    servers: list[int] = []
    try:
        assert wait_for(
            lambda: (
                bool(servers.extend(p for p, argv in _children(run.pid) if b"uvicorn" in argv))
                or bool(servers)
            ),
            timeout=120,
        )
    finally:
        run.kill()
        run.wait()
    assert all_gone(servers, timeout=30), servers
