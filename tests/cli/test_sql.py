import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from newsradar.cli import main
from tests.conftest import write_config
from tests.store.holder import holding
from tests.store.sample import sample_db

FEEDS = '[[feed]]\nname = "local"\nurl = "http://127.0.0.1:1/feed.xml"\n'
WATCHES = '[[watch]]\nid = "nato"\nterms = ["NATO"]\n'
SETTINGS = '[storage]\ndatabase = "data/newsradar.duckdb"\nlock_timeout = {timeout}\n'


def configure(tmp_path: Path, lock_timeout: float = 5) -> Path:
    cfg = write_config(
        tmp_path / "cfg",
        feeds=FEEDS,
        watchlist=WATCHES,
        settings=SETTINGS.format(timeout=lock_timeout),
    )
    sample_db(cfg / "data" / "newsradar.duckdb")
    return cfg


def test_table_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = configure(tmp_path)
    code = main(
        [
            "sql",
            "--config",
            str(cfg),
            "SELECT watch_id, count(*) AS n FROM matches GROUP BY ALL ORDER BY 1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "watch_id" in out and "arms-transfers" in out and "north-korea" in out
    assert "3 rows" in out


def test_csv_and_json_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = configure(tmp_path)
    query = "SELECT id, published_at, site_name FROM articles ORDER BY id"
    assert main(["sql", "-c", str(cfg), "--format", "csv", query]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["id", "published_at", "site_name"]
    assert [r[0] for r in rows[1:]] == ["a1", "a2", "a3", "a4", "a5"]
    assert rows[2][2] == ""  # NULL site name

    assert main(["sql", "-c", str(cfg), "--format", "json", query]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0]["id"] == "a1"
    assert records[0]["published_at"].endswith("+00:00")
    assert records[1]["site_name"] is None


def test_csv_writes_blobs_as_hex_like_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path)
    query = "SELECT '\\x00\\xFFab'::BLOB AS b"
    assert main(["sql", "-c", str(cfg), "--format", "csv", query]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [["b"], ["00ff6162"]]
    assert main(["sql", "-c", str(cfg), "--format", "json", query]) == 0
    assert json.loads(capsys.readouterr().out) == {"b": "00ff6162"}


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_output_file(tmp_path: Path, fmt: str) -> None:
    cfg = configure(tmp_path)
    target = tmp_path / f"out.{fmt}"
    assert (
        main(["sql", "-c", str(cfg), "-f", fmt, "-o", str(target), "SELECT * FROM mentions"]) == 0
    )
    reader = {"csv": "read_csv", "json": "read_json", "parquet": "read_parquet"}[fmt]
    assert duckdb.sql(f"SELECT count(*) FROM {reader}('{target}')").fetchall() == [(9,)]


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM articles",
        "COPY articles TO '/tmp/x.csv'",
        "ATTACH '/tmp/x.duckdb'",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_abuse_is_refused_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    cfg = configure(tmp_path)
    assert main(["sql", "-c", str(cfg), query]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "Traceback" not in err


def test_runaway_query_times_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = configure(tmp_path)
    code = main(
        [
            "sql",
            "-c",
            str(cfg),
            "--timeout",
            "0.3",
            "SELECT count(*) FROM range(1000000000000) a, range(1000) b",
        ]
    )
    assert code == 1
    assert "stopped after 0.3 s" in capsys.readouterr().err


def test_waits_for_a_pass_then_reports_the_holder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path, lock_timeout=0.5)
    with holding(cfg / "data" / "newsradar.duckdb", "write") as holder:
        code = main(["sql", "-c", str(cfg), "SELECT 1"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"locked by process {holder.pid}" in err and "Traceback" not in err


def test_waits_for_a_short_pass_and_then_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = configure(tmp_path, lock_timeout=20)
    with holding(cfg / "data" / "newsradar.duckdb", "write", seconds=0.5):
        code = main(["sql", "-c", str(cfg), "-f", "csv", "SELECT count(*) AS n FROM feeds"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["n", "4"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["-f", "parquet", "SELECT 1"], 2, "--output"),
        (["-f", "xml", "SELECT 1"], 2, "xml"),
        (["-o", "x.txt", "SELECT 1"], 2, "--output"),
    ],
)
def test_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, needle: str
) -> None:
    cfg = configure(tmp_path)
    assert main(["sql", "-c", str(cfg), *args]) == code
    assert needle in capsys.readouterr().err


def test_invalid_configuration_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(
        tmp_path / "bad", feeds=FEEDS, watchlist=WATCHES, settings="[storage]\nx=1\n"
    )
    assert main(["sql", "-c", str(cfg), "SELECT 1"]) == 2
    assert "storage.x" in capsys.readouterr().err


def test_titles_are_not_rich_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = configure(tmp_path)
    assert main(["sql", "-c", str(cfg), "SELECT '[bold red]x[/] [link=http://evil]y' AS t"]) == 0
    assert "[bold red]x[/]" in capsys.readouterr().out


def test_json_lines_stay_json_for_nan_and_infinity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON has no NaN or Infinity: such doubles are written as null, also inside lists."""
    cfg = configure(tmp_path)
    query = "SELECT 'nan'::DOUBLE AS n, 1 / 0 AS inf, [-1 / 0, 0.5] AS l, {'x': 'nan'::DOUBLE} AS s"
    assert main(["sql", "--config", str(cfg), "--format", "json", query]) == 0
    line = capsys.readouterr().out.strip()

    def strict(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    assert json.loads(line, parse_constant=strict) == {
        "n": None,
        "inf": None,
        "l": [None, 0.5],
        "s": {"x": None},
    }


def _leave_a_wal(database: Path) -> None:
    """Commit a row and die before the checkpoint, as a killed pass does: a .wal is left."""
    script = (
        "import duckdb, os, signal, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute(\"SET checkpoint_threshold = '1GB'\")\n"
        "con.execute(\"INSERT INTO events VALUES ('r', now(), 'store', 's', 'k', 'in the wal')\")\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(database)], check=False, timeout=60)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@pytest.mark.parametrize("suffix", ["", ".wal"])
def test_output_onto_the_database_is_refused_and_the_database_survives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, suffix: str
) -> None:
    """A read-only command must never truncate the database or its write-ahead log."""
    cfg = configure(tmp_path)
    database = cfg / "data" / "newsradar.duckdb"
    _leave_a_wal(database)
    target = database.with_name(database.name + suffix)
    before = target.read_bytes()
    # The same file, named the way an analyst might: through "..".
    alias = cfg / "data" / ".." / "data" / target.name
    code = main(["sql", "-c", str(cfg), "-f", fmt, "-o", str(alias), "SELECT 1 AS x"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "--output" in err and "is the database" in err
    assert target.read_bytes() == before
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (5,)
        wal_rows = con.execute("SELECT count(*) FROM events WHERE message = 'in the wal'")
        assert wal_rows.fetchone() == (1,)


def test_json_lines_for_maps_keyed_by_dates_numbers_and_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """histogram() of a date column is a MAP keyed by dates: JSON keys are text, never a crash."""
    cfg = configure(tmp_path)
    query = (
        "SELECT histogram(CAST(published_at AS DATE)) AS per_day,"
        " MAP {1.5::DECIMAL(3, 1): 'a'} AS dec, MAP {'nan'::DOUBLE: 1} AS nan,"
        " MAP {2: 'two'} AS num FROM articles WHERE published_at IS NOT NULL"
    )
    assert main(["sql", "--config", str(cfg), "--format", "json", query]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["per_day"] and all(
        isinstance(day, str) and len(day) == 10 for day in record["per_day"]
    )
    assert sum(record["per_day"].values()) == 4
    assert record["dec"] == {"1.5": "a"}
    assert record["nan"] == {"nan": 1}
    assert record["num"] == {"2": "two"}
