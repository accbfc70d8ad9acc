import datetime as dt
from pathlib import Path

import duckdb
import pytest

from newsradar.store import open_writer
from newsradar.store.retention import prune
from tests.store.sample import sample_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def _snapshot(con: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    return (
        con.execute("SELECT * FROM matches ORDER BY ALL").fetchall(),
        con.execute("SELECT * FROM daily_counts ORDER BY ALL").fetchall(),
        con.execute("SELECT id, title, url, content_hash FROM articles ORDER BY id").fetchall(),
    )


@pytest.mark.parametrize(
    ("keep_days", "pruned"),
    [
        (0, []),  # 0 keeps everything
        (1000, []),
        (30, ["a5"]),  # fetched 400 days ago
        (10, ["a4", "a5"]),  # a4 fetched 20 days ago
        (1, ["a1", "a2", "a4", "a5"]),  # a1, a2 fetched 1 day and 1 hour ago
    ],
)
def test_prune_clears_old_bodies_only(tmp_path: Path, keep_days: int, pruned: list[str]) -> None:
    db = sample_db(tmp_path / "r.duckdb", now=NOW)
    with open_writer(db) as con:
        before = _snapshot(con)
        assert prune(con, keep_days, NOW) == len(pruned)
        # Pruning again finds nothing more to do.
        assert prune(con, keep_days, NOW) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        empty = con.execute("SELECT id FROM articles WHERE text IS NULL ORDER BY id").fetchall()
        assert [row[0] for row in empty] == pruned
        assert _snapshot(con) == before


def test_prune_wants_an_aware_time(tmp_path: Path) -> None:
    db = sample_db(tmp_path / "r.duckdb", now=NOW)
    with open_writer(db) as con, pytest.raises(ValueError, match="timezone-aware"):
        prune(con, 5, NOW.replace(tzinfo=None))
