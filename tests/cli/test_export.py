from pathlib import Path

import pytest

from newsradar.cli import main
from tests.cli.test_sql import configure


def test_export_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = configure(tmp_path)
    out_dir = tmp_path / "exports"
    assert (
        main(["export", "-c", str(cfg), "--format", "csv", "--since", "2000-01-01", str(out_dir)])
        == 0
    )
    out = capsys.readouterr().out
    assert "articles" in out and "matches" in out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "alerts.csv",
        "articles.csv",
        "events.csv",
        "feeds.csv",
        "matches.csv",
        "runs.csv",
        "watches.csv",
    ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--since", "yesterday"], "not a date"), (["--format", "xlsx"], "xlsx")],
)
def test_export_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    cfg = configure(tmp_path)
    assert main(["export", "-c", str(cfg), *args, str(tmp_path / "x")]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_export_without_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = configure(tmp_path)
    (cfg / "data" / "newsradar.duckdb").unlink()
    assert main(["export", "-c", str(cfg), str(tmp_path / "x")]) == 1
    assert "does not exist yet" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["sql", "export", "shell"])
def test_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert f"Example: newsradar {command}" in capsys.readouterr().out
