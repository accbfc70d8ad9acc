import io
import subprocess
import sys
from pathlib import Path

import pytest

from newsradar.cli import main
from tests.cli.test_sql import configure


def run_shell(cfg: Path, script: str | io.TextIOBase, monkeypatch: pytest.MonkeyPatch) -> int:
    stdin = io.StringIO(script) if isinstance(script, str) else script
    monkeypatch.setattr(sys, "stdin", stdin)
    return main(["shell", "--config", str(cfg)])


def test_statements_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    script = (
        "SELECT count(*) AS articles\n  FROM articles;\n"
        "\n"
        ".tables\n"
        ".schema feeds\n"
        "SELECT 'last' AS w"  # no ';' at the end of input: still run
    )
    assert run_shell(cfg, script, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "articles" in out and "│ 5 " in out
    assert "daily_counts" in out and "mentions" in out  # .tables lists views too
    assert "consecutive_failures" in out  # .schema feeds
    assert "last" in out


def test_errors_are_reported_and_the_shell_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    script = (
        "DROP TABLE matches;\n.nope\nSELECT count(*) AS n FROM matches;\n"
        ".quit\nSELECT 'after quit';\n"
    )
    assert run_shell(cfg, script, monkeypatch) == 1  # piped scripts learn that something failed
    captured = capsys.readouterr()
    assert "refused" in captured.err and "unknown command .nope" in captured.err
    assert "│ 9 " in captured.out  # matches are still there
    assert "after quit" not in captured.out


def test_help(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    assert run_shell(cfg, ".help\n", monkeypatch) == 0
    assert ".schema NAME" in capsys.readouterr().out


class WriterBetweenStatements(io.StringIO):
    """stdin that, before handing over the second statement, has ANOTHER process open the
    database for writing; that only works if the shell released the file after the first."""

    def __init__(self, script: str, database: Path) -> None:
        super().__init__(script)
        self.database = database
        self.calls = 0
        self.writer_codes: list[int] = []

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.calls += 1
        if self.calls == 2:
            code = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
            done = subprocess.run(
                [sys.executable, "-c", code, str(self.database)],
                capture_output=True,
                timeout=60,
            )
            self.writer_codes.append(done.returncode)
        return super().readline(size if size is not None else -1)


def test_the_file_is_released_between_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    stdin = WriterBetweenStatements(
        "SELECT 1 AS first;\nSELECT 2 AS second;\n", cfg / "data" / "newsradar.duckdb"
    )
    assert run_shell(cfg, stdin, monkeypatch) == 0
    assert stdin.writer_codes == [0]
    out = capsys.readouterr().out
    assert "first" in out and "second" in out
