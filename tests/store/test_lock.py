"""Another PROCESS holds the file: writers and readers retry, then fail naming the holder."""

import time
from pathlib import Path

import pytest

from newsradar.errors import StoreLockedError
from newsradar.store import open_reader, open_writer
from newsradar.store.reader import query_session
from tests.store.holder import holding
from tests.store.sample import sample_db


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return sample_db(tmp_path / "newsradar.duckdb")


def test_writer_retries_then_names_the_holder(database: Path) -> None:
    with holding(database, "read") as holder:
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as info:
            with open_writer(database, lock_timeout=0.8):
                pass
        waited = time.monotonic() - started
    assert f"locked by process {holder.pid}" in str(info.value)
    assert "try again" in str(info.value)
    assert waited >= 0.8  # it retried for the whole lock timeout


def test_reader_retries_then_names_the_writing_holder(database: Path) -> None:
    with holding(database, "write") as holder:
        with pytest.raises(StoreLockedError, match=f"process {holder.pid}"):
            with query_session(database, lock_timeout=0.5):
                pass


def test_writer_gets_the_file_once_the_holder_lets_go(database: Path) -> None:
    with holding(database, "read", seconds=0.7):
        with open_writer(database, lock_timeout=20) as con:
            assert con.execute("SELECT count(*) FROM articles").fetchone() == (5,)


def test_two_reading_processes_share_the_file(database: Path) -> None:
    with holding(database, "read"):
        with open_reader(database, lock_timeout=0.5) as con:
            assert con.execute("SELECT count(*) FROM matches").fetchone() == (9,)
