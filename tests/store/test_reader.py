"""User SQL: only reads run; everything else is refused with a reason, or interrupted."""

import hashlib
from pathlib import Path

import pytest

from newsradar.errors import QueryRefusedError, QueryTimeoutError, StoreError
from newsradar.store.reader import check_query, query_session
from tests.store.sample import sample_db


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_db(tmp_path_factory.mktemp("reader") / "newsradar.duckdb")


def _state(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


# (query, what the refusal message must say); the parser refuses these before running them.
REFUSED = [
    ("DELETE FROM articles", "writes to the database"),
    ("UPDATE alerts SET status = 'sent'", "writes to the database"),
    ("INSERT INTO watches VALUES ('x', 'x', 'x', 'x', now())", "writes to the database"),
    ("DROP TABLE matches", "changes the database"),
    ("CREATE TABLE x AS SELECT 1", "changes the database"),
    ("CREATE TEMP TABLE x AS SELECT 1", "changes the database"),
    ("ALTER TABLE feeds ADD COLUMN x INT", "changes the database"),
    ("COPY articles TO '/tmp/stolen.csv'", "reads or writes files"),
    ("COPY articles FROM '/etc/passwd'", "reads or writes files"),
    ("EXPORT DATABASE '/tmp/dump'", "writes files"),
    ("ATTACH '/tmp/other.duckdb' AS o", "opens another database"),
    ("DETACH o", "attached databases"),
    ("INSTALL httpfs", "extension"),
    ("LOAD httpfs", "extension"),
    ("SET enable_external_access = true", "changes settings"),
    ("SET lock_configuration = false", "changes settings"),
    ("RESET threads", "changes settings"),
    ("USE memory", "changes settings"),
    ("SET VARIABLE x = 1", "changes settings"),
    ("PRAGMA enable_profiling", "PRAGMA"),
    ("CALL checkpoint()", "procedure"),
    ("CHECKPOINT", "procedure"),
    ("BEGIN TRANSACTION", "transactions"),
    ("VACUUM", "rewrites"),
    ("PREPARE p AS SELECT 1", "prepares"),
    ("PIVOT matches ON watch_id", "several statements"),
    ("EXPLAIN ANALYZE DELETE FROM articles", "writes to the database"),
    ("SELECT 1; DROP TABLE matches", "2 statements"),
    ("   ", "empty query"),
]


@pytest.mark.parametrize(("query", "reason"), REFUSED)
def test_statements_that_do_not_only_read_are_refused(query: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError, match=reason):
        check_query(query)


# Queries that parse as SELECT but reach outside the database: DuckDB itself refuses them
# because the session disabled external access before locking the configuration.
OUTSIDE = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('/tmp/*.parquet')",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
    # Statements smuggled into table functions: DuckDB only runs SELECTs there.
    "SELECT * FROM query('DELETE FROM articles')",
    "SELECT * FROM query('SET enable_external_access = true')",
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('DELETE FROM articles'))",
]


def test_abuse_is_refused_and_nothing_on_disk_changes(database: Path) -> None:
    before = _state(database.parent)
    with query_session(database, timeout=10) as session:
        for query, _ in REFUSED:
            with pytest.raises(QueryRefusedError):
                session.fetch(query)
        for query in OUTSIDE:
            with pytest.raises((QueryRefusedError, StoreError)) as info:
                session.fetch(query)
            message = str(info.value)
            assert any(
                needle in message
                for needle in ("refused", "does not exist", "single SELECT", "Only SELECT")
            ), message
        # The session still works after all that.
        assert session.fetch("SELECT count(*) FROM articles").rows == [(5,)]
    assert _state(database.parent) == before


def test_reading_a_file_is_refused_with_a_clear_message(database: Path) -> None:
    with query_session(database) as session:
        with pytest.raises(QueryRefusedError, match="refused: the query reads or writes files"):
            session.fetch("SELECT * FROM read_csv('/etc/passwd')")


def test_a_runaway_query_is_interrupted(database: Path) -> None:
    with query_session(database, timeout=0.3) as session:
        with pytest.raises(QueryTimeoutError, match=r"stopped after 0.3 s.*--timeout"):
            session.fetch("SELECT count(*) FROM range(1000000000000) a, range(1000) b")
        # The connection is usable again after the interrupt.
        assert session.fetch("SELECT 42").rows == [(42,)]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) FROM matches",
        "WITH x AS (SELECT * FROM mentions) SELECT count(*) FROM x",
        "FROM daily_counts SELECT count(*)",
        "DESCRIBE articles",
        "SHOW TABLES",
        "SUMMARIZE feeds",
        "EXPLAIN SELECT * FROM mentions",
        "PIVOT matches ON watch_id IN ('nato', 'north-korea') USING count(*) GROUP BY field",
        "select 1 -- a comment; with a semicolon",
    ],
)
def test_reads_are_allowed(database: Path, query: str) -> None:
    with query_session(database) as session:
        assert session.fetch(query).rows


def test_max_rows_cuts_and_says_so(database: Path) -> None:
    with query_session(database) as session:
        cut = session.fetch("SELECT * FROM matches", max_rows=2)
        whole = session.fetch("SELECT * FROM matches", max_rows=100)
    assert (len(cut.rows), cut.truncated) == (2, True)
    assert (len(whole.rows), whole.truncated) == (9, False)
    assert cut.columns[:2] == ("article_id", "watch_id")


def test_parquet_output_is_the_only_file_the_session_may_write(
    database: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out.parquet"
    with query_session(database, output=target) as session:
        session.write_parquet("SELECT * FROM matches", target)
        with pytest.raises(QueryRefusedError):
            session.write_parquet("SELECT * FROM read_csv('/etc/passwd')", target)
        with pytest.raises(QueryRefusedError):
            session.write_parquet("SELECT * FROM matches", tmp_path / "other.parquet")
    assert target.stat().st_size > 0
    assert not (tmp_path / "other.parquet").exists()


def test_a_syntax_error_is_a_store_error_with_duckdbs_message(database: Path) -> None:
    with query_session(database) as session:
        with pytest.raises(StoreError, match="syntax error"):
            session.fetch("SELEC 1")
        with pytest.raises(StoreError, match="nope"):
            session.fetch("SELECT * FROM nope")


def test_a_missing_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist yet"):
        with query_session(tmp_path / "none.duckdb"):
            pass
