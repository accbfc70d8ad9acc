"""A damaged database file (truncated by a failed copy or a full disk) gives a clean StoreError."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
import pytest

from newsradar.errors import StoreError
from newsradar.store import open_reader, open_writer
from tests.store.sample import sample_db

Opener = Callable[[Path], AbstractContextManager[duckdb.DuckDBPyConnection]]


def truncated(tmp_path: Path) -> Path:
    database = sample_db(tmp_path / "newsradar.duckdb")
    data = database.read_bytes()
    database.write_bytes(data[: len(data) // 4])
    return database


@pytest.mark.parametrize(
    "opener",
    [
        lambda path: open_reader(path, lock_timeout=1),
        lambda path: open_writer(path, lock_timeout=1),
    ],
    ids=["reader", "writer"],
)
def test_a_truncated_file_names_the_database_and_the_fix(tmp_path: Path, opener: Opener) -> None:
    database = truncated(tmp_path)
    with pytest.raises(StoreError) as info:
        with opener(database) as con:
            for table in ("feeds", "articles", "matches", "alerts"):
                con.execute(f"SELECT * FROM {table}").fetchall()
    message = str(info.value)
    assert f"database {database} is damaged" in message
    assert "restore it from a backup" in message
