import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsradar.cli import main
from newsradar.cli.report import parse_since
from tests.trends_data import build_trends_db, trends_config_text


def config_dir(tmp_path: Path, *, days: int) -> Path:
    database = tmp_path / "trends.duckdb"
    today = datetime.now(UTC).date()
    build_trends_db(database, last_day=today, days=days, spike_day=today - timedelta(days=2))
    directory = tmp_path / "config"
    directory.mkdir()
    for name, text in trends_config_text(database).items():
        (directory / name).write_text(text)
    return directory


def test_report_command_writes_the_file_and_summarises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir(tmp_path, days=20)
    output = tmp_path / "out" / "trends.html"
    argv = ["report", "--config", str(config), "--since", "1w", "--watch", "nato"]
    assert main([*argv, "--output", str(output)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"wrote {output} (1 watches" in out and "1 spike day)" in out
    html = output.read_text()
    assert html.startswith("<!DOCTYPE html>") and "NATO" in html and "North Korea" not in html


def test_report_on_a_missing_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir(tmp_path, days=1)
    (tmp_path / "trends.duckdb").unlink()
    assert main(["report", "--config", str(config), "--output", str(tmp_path / "x.html")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "does not exist yet; run `newsradar run` first" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--since", "fortnight"], "e.g. 14d or 2w"),
        (["--since", "0d"], "between 1d and 366d"),
        (["--watch", "natto"], "no such watch"),
    ],
)
def test_report_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    config = config_dir(tmp_path, days=1)
    code = main(["report", "--config", str(config), "--output", str(tmp_path / "x.html"), *argv])
    assert code == 2
    captured = capsys.readouterr()
    assert needle in " ".join((captured.err + captured.out).split())
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(("text", "days"), [("14d", 14), ("2w", 14), (" 30D ", 30), ("1d", 1)])
def test_parse_since(text: str, days: int) -> None:
    assert parse_since(text) == days


@pytest.mark.parametrize("text", ["", "14", "d", "-1d", "367d", "53w", "14 days"])
def test_parse_since_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="14d|366d"):
        parse_since(text)


def test_report_onto_the_database_is_refused_and_the_database_survives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir(tmp_path, days=3)
    database = tmp_path / "trends.duckdb"
    before = database.read_bytes()
    assert main(["report", "--config", str(config), "--output", str(database)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--output" in err and "is the database" in err
    assert database.read_bytes() == before


def test_only_the_report_loads_matplotlib() -> None:
    # Every command imports the whole CLI: matplotlib there cost `newsradar run` and `sql`
    # about 0.35 s each.
    probe = "import sys, newsradar.cli; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
