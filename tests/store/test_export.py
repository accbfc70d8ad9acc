import datetime as dt
from pathlib import Path

import duckdb
import pytest

from newsradar.errors import StoreError
from newsradar.store.export import EXPORT_TABLES, export_tables
from tests.store.sample import sample_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("since", "articles", "matches"),
    [
        (None, 5, 9),
        (dt.date(2026, 3, 9), 3, 7),  # a1, a2 (published yesterday), a3 (today)
        (dt.date(2026, 3, 10), 1, 2),
        (dt.date(2027, 1, 1), 0, 0),
    ],
)
def test_export_parquet_since(
    tmp_path: Path, since: dt.date | None, articles: int, matches: int
) -> None:
    db = sample_db(tmp_path / "n.duckdb", now=NOW)
    target = tmp_path / "it's exported"  # a quote in the path must not break COPY
    counts = export_tables(db, target, fmt="parquet", since=since)
    assert set(counts) == set(EXPORT_TABLES)
    assert (counts["articles"], counts["matches"]) == (articles, matches)
    assert counts["feeds"] == 4 and counts["watches"] == 3
    for table, rows in counts.items():
        path = str(target / f"{table}.parquet")
        assert duckdb.sql("SELECT count(*) FROM read_parquet(?)", params=[path]).fetchall() == [
            (rows,)
        ]


def test_export_csv_has_headers_and_joinable_ids(tmp_path: Path) -> None:
    db = sample_db(tmp_path / "n.duckdb", now=NOW)
    export_tables(db, tmp_path / "csv", fmt="csv")
    orphans = duckdb.sql(
        "SELECT count(*) FROM read_csv(?) AS m ANTI JOIN read_csv(?) AS a ON a.id = m.article_id",
        params=[str(tmp_path / "csv" / "matches.csv"), str(tmp_path / "csv" / "articles.csv")],
    ).fetchall()
    assert orphans == [(0,)]
    header = (tmp_path / "csv" / "events.csv").read_text().splitlines()[0]
    assert header == "run_id,logged_at,stage,subject,kind,message"


def test_unknown_format(tmp_path: Path) -> None:
    db = sample_db(tmp_path / "n.duckdb", now=NOW)
    with pytest.raises(StoreError, match="parquet or csv"):
        export_tables(db, tmp_path / "x", fmt="xlsx")
