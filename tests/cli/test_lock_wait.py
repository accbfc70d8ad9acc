"""Every command that waits for the database or for a running pass gives up in one line.

The holder is another process, as a pass or an analyst's session is: after ``[storage]
lock_timeout`` the command exits 1 with one line naming the holder, how long it waited and
what to do, and never a traceback.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsradar.cli import main
from newsradar.config import Config
from tests.alerts.support import alert_rows, article, make_config, seed
from tests.store.holder import ROOT, holding

OPML = '<opml version="2.0"><body><outline text="New" xmlUrl="https://new.example.org/rss"/>'
OPML += "</body></opml>"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = make_config(tmp_path / "cfg", lock_timeout=0.3)
    seed(config, [article("a1")], now=datetime.now(UTC))
    (tmp_path / "subs.opml").write_text(OPML)
    return config


def assert_one_line_naming(err: str, pid: int, *holder: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"{pid}" in lines[0] and all(words in lines[0] for words in holder), lines[0]
    assert "0.3 s" in lines[0], lines[0]  # how long it waited
    assert "or raise [storage] lock_timeout" in lines[0], lines[0]


# Each command that opens the database (and so waits for a process that holds it).
DATABASE_COMMANDS = [
    ["alerts", "send"],
    ["alerts", "preview", "-o", "{tmp}/preview.html"],
    ["rematch"],
    ["rematch", "--dry-run"],
    ["feeds"],
    ["feeds", "import", "{tmp}/subs.opml"],
    ["report", "-o", "{tmp}/report.html"],
    ["export", "{tmp}/export"],
    ["sql", "SELECT 1"],
]


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_a_command_that_waits_for_the_database_gives_up_in_one_line(
    config: Config,
    tmp_path: Path,
    command: list[str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    args = [part.format(tmp=tmp_path) for part in command]
    feeds_before = (config.directory / "feeds.toml").read_bytes()
    with caplog.at_level(logging.DEBUG), holding(config.storage.database, "write") as holder:
        code = main([*args, "--config", str(config.directory)])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert_one_line_naming(captured.err, holder.pid, "is locked by process")
    assert "Traceback" not in captured.out + caplog.text
    assert (config.directory / "feeds.toml").read_bytes() == feeds_before
    written = [p.name for p in tmp_path.rglob("*") if p.is_file() and "cfg" not in p.parts]
    assert written == ["subs.opml"]  # no report, preview or export beside the holder


def test_the_shell_says_so_in_one_line_per_statement(
    config: Config, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = config.directory.parent / "script.sql"
    script.write_text("SELECT 1;\n")
    with holding(config.storage.database, "write") as holder, script.open() as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        code = main(["shell", "--config", str(config.directory)])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert_one_line_naming(captured.err, holder.pid, "is locked by process")


# Each command that waits for a running pass (the run lock) before it writes.
PASS_COMMANDS = [(["alerts", "send"], "alerts send"), (["rematch"], "rematch")]


@pytest.mark.parametrize(("command", "task"), PASS_COMMANDS, ids=lambda v: str(v))
def test_a_command_that_waits_for_a_running_pass_gives_up_in_one_line(
    config: Config, command: list[str], task: str
) -> None:
    with holding(config.storage.database, "pass") as holder:
        done = subprocess.run(
            [sys.executable, "-m", "newsradar", *command, "--config", str(config.directory)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout
    assert_one_line_naming(done.stderr, holder.pid, "another pass", f"{task} was skipped")
    assert {row[3] for row in alert_rows(config)} == {"pending"}  # nothing sent beside the pass
