"""The command line as a user meets it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import typer

from newsradar.cli import app, main
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer, Response, wait_for
from tests.processes import all_gone, descendants
from tests.sample_site import WATCHLIST, serve_seed


def run_in_a_process(config: Path, prefect_home: Path) -> subprocess.CompletedProcess[str]:
    """`newsradar run` in its own process, with Prefect's temporary server in ``prefect_home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(prefect_home)
    return subprocess.run(
        [sys.executable, "-m", "newsradar", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_run_end_to_end_in_a_real_process(tmp_path: Path, http_server: LoopbackHTTPServer) -> None:
    """`newsradar run` with Prefect's temporary server, as `make run` does it."""
    serve_seed(http_server)
    feeds = (
        f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n\n'
        f'[[feed]]\nname = "gone"\nurl = "{http_server.url("/no-such-feed.xml")}"\n'
    )
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)

    done = run_in_a_process(config, tmp_path / "prefect")

    assert done.returncode == 0, done.stderr
    assert "2 articles stored" in " ".join(done.stdout.split())
    assert "Traceback" not in done.stderr
    # A failed feed: one warning line for the pass, its details once, in the table.
    output = done.stdout + done.stderr
    assert "feeds_failed count=1 feeds=gone" in output
    assert "feed_failed feed_id=gone" not in output
    assert output.count("http_4xx") == 1, output
    assert output.count("answered 404") == 1, output
    with duckdb.connect(str(config / "data" / "newsradar.duckdb"), read_only=True) as con:
        watches = {w for (w,) in con.execute("SELECT DISTINCT watch_id FROM matches").fetchall()}
    assert {"nato", "north-korea", "arms-transfers"} <= watches


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ("[fetch]\ntimeout = 'soon'\n", "newsradar.toml: fetch.timeout"),
        ("[alerts]\nrecipients = 3\n", "newsradar.toml: alerts.recipients"),
        (
            "[fetch]\nmin_poll_interval = 600\nmax_poll_interval = 300\n",
            "newsradar.toml: fetch: min_poll_interval (600) is above max_poll_interval",
        ),
        ("[extract]\nworkers = 1000\n", "newsradar.toml: extract.workers"),
        ('[storage]\ndatabase = ""\n', "newsradar.toml: storage.database: empty path"),
        ('[alerts]\noutbox_dir = ""\n', "newsradar.toml: alerts.outbox_dir: empty path"),
        ('[storage]\ndatabase = "."\n', "is a directory; name the DuckDB file"),
        ("[alerts]\nretry_backoff_cap = inf\n", "newsradar.toml: alerts.retry_backoff_cap"),
        ("[fetch]\nbackoff_cap = inf\n", "newsradar.toml: fetch.backoff_cap"),
        ("[storage]\nkeep_days = 1000000\n", "newsradar.toml: storage.keep_days"),
        ('[alerts]\nrecipients = ["channel:desk"]\n', "alerts.recipients: 'channel:desk'"),
    ],
)
def test_invalid_configuration_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: str, needle: str
) -> None:
    config = write_config(tmp_path, feeds="", watchlist=WATCHLIST)
    (config / "newsradar.toml").write_text(settings)

    assert main(["run", "--config", str(config)]) == 2

    err = capsys.readouterr().err
    assert needle in err.replace("\n", "")
    assert "Traceback" not in err


def test_a_watch_naming_an_undefined_channel_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = WATCHLIST.replace("[[watch]]\n", '[[watch]]\nrecipients = ["channel:desk"]\n', 1)
    config = write_config(tmp_path, feeds="", watchlist=watchlist)

    assert main(["run", "--config", str(config)]) == 2

    err = capsys.readouterr().err.replace("\n", "")
    assert "watchlist.toml: watch 'nato'.recipients: 'channel:desk' names no channel" in err
    assert "Traceback" not in err


def test_missing_config_directory_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", "/nonexistent/newsradar"]) == 2
    assert "pass --config DIR" in capsys.readouterr().err


def test_every_command_has_help_with_an_example() -> None:
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"run", "version"} <= set(commands)
    for name, command in commands.items():
        assert command.help and "Example:" in command.help, f"`newsradar {name}` needs an example"


@pytest.mark.parametrize(
    "command",
    [
        ["feeds"],
        ["rematch", "--dry-run"],
        ["report", "--output", "report.html"],
        ["sql", "SELECT * FROM feeds"],
        ["alerts", "send"],
    ],
    ids=lambda c: c[0],
)
def test_a_damaged_database_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    from tests.store.test_connection import truncated

    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    database = config / "data" / "newsradar.duckdb"
    database.parent.mkdir()
    truncated(database.parent).rename(database)

    assert main([*command, "--config", str(config)]) == 1

    err = capsys.readouterr().err
    assert "is damaged" in err, err
    assert "internal error" not in err


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["export", "{file}"], "is a file"),
        (["feeds", "export", "--output", "{dir}"], "is a directory"),
    ],
    ids=["export-into-a-file", "feeds-export-to-a-directory"],
)
def test_an_output_path_of_the_wrong_kind_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], needle: str
) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    (tmp_path / "file").write_text("x")
    argv = [a.format(file=tmp_path / "file", dir=tmp_path) for a in command]

    assert main([*argv, "--config", str(config)]) == 2

    err = capsys.readouterr().err
    assert needle in err, err
    assert "internal error" not in err


def test_a_failed_pass_is_one_line_without_prefect_tracebacks(tmp_path: Path) -> None:
    """The engine's own reports of the failed task and flow stay out of the terminal."""
    from tests.store.test_connection import truncated

    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    database = config / "data" / "newsradar.duckdb"
    database.parent.mkdir()
    truncated(database.parent).rename(database)

    done = run_in_a_process(config, tmp_path / "prefect")

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if "is damaged" in line] == [
        done.stderr.strip()
    ]


@pytest.mark.parametrize("command", [["sql"], ["alerts", "send"], ["rematch"]])
def test_help_names_the_settings_section_it_refers_to(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--help"]) == 0
    assert "[storage] lock_timeout" in " ".join(capsys.readouterr().out.split())


def test_sigterm_ends_a_pass_cleanly(tmp_path: Path, http_server: LoopbackHTTPServer) -> None:
    # cron's `timeout` and systemd stop a pass with SIGTERM. It used to end the process on the
    # spot: no exit handler ran, and the worker pools' semaphores were reported leaked on
    # stderr, which cron mails.
    def slow(_request: object) -> Response:
        time.sleep(8)
        return Response(200, b"")

    http_server.route("/feed.xml", handler=slow)
    feeds = f'[[feed]]\nname = "slow"\nurl = "{http_server.url("/feed.xml")}"\n'
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "ph")
    with subprocess.Popen(
        [sys.executable, "-m", "newsradar", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    ) as run:  # fmt: skip
        try:
            assert wait_for(lambda: http_server.hits("/feed.xml") > 0, timeout=120)
            started = descendants(run.pid)
            run.send_signal(signal.SIGTERM)
            out, err = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
    assert run.returncode == 143, (out, err)
    assert "Traceback" not in err and "leaked" not in err, err
    assert "terminated" in err
    assert all_gone(started, timeout=30), started
