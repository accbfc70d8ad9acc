import resource
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
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


def test_export_to_a_directory_that_cannot_be_made_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert main(["export", "-c", str(cfg), str(blocker / "exports")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    assert f"cannot write the export to {blocker / 'exports'}" in err


def test_export_over_a_directory_named_like_a_table_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    (tmp_path / "exports" / "articles.csv").mkdir(parents=True)
    assert main(["export", "-c", str(cfg), "-f", "csv", str(tmp_path / "exports")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    assert f"cannot write {tmp_path / 'exports' / 'articles.csv'}" in err
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["articles.csv"]


def test_export_never_replaces_a_database_named_like_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    database = cfg / "data" / "newsradar.duckdb"
    renamed = database.with_name("events.parquet")
    database.rename(renamed)
    settings = (cfg / "newsradar.toml").read_text()
    (cfg / "newsradar.toml").write_text(settings.replace("newsradar.duckdb", "events.parquet"))
    before = renamed.read_bytes()
    assert main(["export", "-c", str(cfg), str(renamed.parent)]) == 1
    assert f"cannot write {renamed}" in capsys.readouterr().err
    assert renamed.read_bytes() == before


def _small_files() -> None:
    """In the child: files over 200 kB fail with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_failed_export_leaves_the_previous_one_whole(tmp_path: Path, fmt: str) -> None:
    cfg = configure(tmp_path)
    out_dir = tmp_path / "exports"
    assert main(["export", "-c", str(cfg), "-f", fmt, str(out_dir)]) == 0
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    with duckdb.connect(str(cfg / "data" / "newsradar.duckdb")) as con:
        # Random text: Parquet cannot compress it below the child's file size limit.
        con.execute("UPDATE articles SET text = (SELECT string_agg(md5(i::VARCHAR), '')"
                    " FROM range(20000) t(i)) || id")  # fmt: skip
        con.execute("UPDATE feeds SET title = 'Renamed since the last export'")
    done = subprocess.run(
        [sys.executable, "-m", "newsradar", "export", "-c", str(cfg), "-f", fmt, str(out_dir)],
        capture_output=True, text=True, preexec_fn=_small_files, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "cannot export table articles" in done.stderr
    # Nothing half written, and no mix of this export's tables with the previous one's.
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before
