"""Where a pass refused by a broken configuration is recorded, and what its one line says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from newsradar.errors import ConfigError
from newsradar.misconfig import failure_database, record_refusal
from newsradar.store import open_writer
from tests.conftest import write_config
from tests.sample_site import WATCHLIST

GOOD = '[storage]\ndatabase = "data/named.duckdb"\n'
SERVED = "served/newsradar.duckdb"
NAMED = "cfg/data/named.duckdb"

# settings file text (None: no file), databases that exist, served?, expected (None: nowhere)
CASES = {
    "[storage] reads: the database it names": (GOOD, [NAMED, SERVED], True, NAMED),
    "[storage] reads, another table broken": (
        GOOD + "[fetch]\ntimeout = -1\n",
        [NAMED],
        False,
        NAMED,
    ),
    "invalid TOML: the served database": (GOOD + "[x\n", [NAMED, SERVED], True, SERVED),
    "invalid TOML, nothing served: nowhere": (GOOD + "[x\n", [NAMED], False, None),
    "unknown key in [storage]: the served one": (
        '[storage]\ndatabse = "x.duckdb"\n',
        [SERVED],
        True,
        SERVED,
    ),
    "settings file missing: the served one": (None, [SERVED], True, SERVED),
    "named one not created yet: the served one": (GOOD, [SERVED], True, SERVED),
    "no database exists at all: nowhere": (GOOD, [], True, None),
}


@pytest.mark.parametrize(("settings", "existing", "served", "expected"), CASES.values(),
                         ids=CASES.keys())  # fmt: skip
def test_the_database_that_records_a_refused_pass(
    tmp_path: Path, settings: str | None, existing: list[str], served: bool, expected: str | None
) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    if settings is not None:
        (config / "newsradar.toml").write_text(settings)
    for name in existing:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")

    found = failure_database(config, tmp_path / SERVED if served else None)

    assert found == (tmp_path / expected if expected else None)


def test_a_refused_pass_is_a_failed_row_with_the_error(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    database = config / "data" / "newsradar.duckdb"
    with open_writer(database):
        pass
    error = ConfigError(str(config / "feeds.toml"), "feed 'wire'.urll", "unknown key")
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    refusal = record_refusal(config, error, served=None, now=now)

    line = f"configuration error: {config / 'feeds.toml'}: feed 'wire'.urll: unknown key"
    assert refusal.database == database and refusal.run_id is not None
    assert refusal.line.startswith(f"{line}; this pass did not run (runs row {refusal.run_id}")
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT id, started_at, finished_at, status, message FROM runs")
        assert rows.fetchall() == [(refusal.run_id, now, now, "failed", line)]


def test_with_no_known_database_nothing_is_created_and_the_line_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    error = ConfigError(str(config / "newsradar.toml"), "", "not valid TOML (...)")

    refusal = record_refusal(config, error, served=None)

    assert refusal.run_id is None and refusal.database is None
    assert "this pass did not run and no runs row was written" in refusal.line
    assert not (config / "data").exists()
