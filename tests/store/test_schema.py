from pathlib import Path

import duckdb
import pytest

from newsradar.errors import StoreError
from newsradar.store import open_reader, open_writer, schema
from newsradar.store.feeds import load_feed_rows
from tests.store.sample import sample_db


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = ["feeds", "articles", "watches", "matches", "alerts", "runs", "events"]
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def _first_schema_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample database as the first newsradar release wrote it (schema version 1)."""
    db = tmp_path / "old.duckdb"
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        sample_db(db)
    return db


def test_upgrade_from_the_first_schema_keeps_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _first_schema_db(tmp_path, monkeypatch)
    with duckdb.connect(str(db)) as con:
        assert schema.current_version(con) == 1
        before = _counts(con)
        snapshot = con.execute("SELECT * FROM matches ORDER BY ALL").fetchall()
        assert not con.execute(
            "SELECT * FROM duckdb_views() WHERE view_name = 'mentions'"
        ).fetchall()

    with open_writer(db) as con:
        assert schema.current_version(con) == schema.MIGRATIONS[-1][0]
        assert _counts(con) == before
        assert con.execute("SELECT * FROM matches ORDER BY ALL").fetchall() == snapshot
        assert con.execute("SELECT count(*) FROM mentions").fetchone() == (before["matches"],)


def test_an_analyst_command_right_after_an_upgrade_sees_the_documented_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # newsradar was upgraded, no pass has run yet: `sql`, `report`, `feeds` open a reader.
    db = _first_schema_db(tmp_path, monkeypatch)
    with open_reader(db) as con:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone() == (
            schema.MIGRATIONS[-1][0],
        )
        assert con.execute("SELECT count(*) FROM mentions").fetchone() == (
            con.execute("SELECT count(*) FROM matches").fetchone()
        )
        assert load_feed_rows(con)  # reads feeds.removed_at (migration 6)


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    db = sample_db(tmp_path / "n.duckdb")
    with duckdb.connect(str(db)) as con:
        versions = con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        assert schema.migrate(con) == schema.MIGRATIONS[-1][0]
        assert schema.migrate(con) == schema.MIGRATIONS[-1][0]
        assert con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall() == versions


def test_migration_numbers_are_unique_and_increasing() -> None:
    numbers = [number for number, _, _ in schema.MIGRATIONS]
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_failing_migration_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sample_db(tmp_path / "f.duckdb")
    latest = schema.MIGRATIONS[-1][0]
    broken = (latest + 1, "broken", ["CREATE TABLE half_done (x INTEGER)", "SELEC oops"])
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    with duckdb.connect(str(db)) as con:
        with pytest.raises(duckdb.ParserException):
            schema.migrate(con)
        assert schema.current_version(con) == latest
        assert not con.execute(
            "SELECT * FROM duckdb_tables() WHERE table_name = 'half_done'"
        ).fetchall()


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    db = sample_db(tmp_path / "new.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO schema_version (version, description) VALUES (999, 'future')")
    with pytest.raises(StoreError, match="version 999 is newer.*upgrade newsradar"):
        with open_writer(db):
            pass


def test_daily_counts_counts_mentions_articles_and_stories(tmp_path: Path) -> None:
    db = sample_db(tmp_path / "c.duckdb")
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT watch_id, sum(mentions), sum(articles), sum(stories) FROM daily_counts"
            " GROUP BY ALL ORDER BY 1"
        ).fetchall()
        outlets = con.execute(
            "SELECT article_id, outlet, watch FROM mentions WHERE field = 'title' ORDER BY 1, 3"
        ).fetchall()
    # a1 and a2 are one story seen by two outlets; a3 has two nato mentions.
    assert rows == [("arms-transfers", 1, 1, 1), ("nato", 5, 4, 3), ("north-korea", 3, 3, 2)]
    assert outlets[:3] == [
        ("a1", "Reuters", "NATO"),
        ("a1", "Reuters", "North Korea"),
        ("a2", "DW Asia", "NATO"),  # no site name: the feed's title
    ]
