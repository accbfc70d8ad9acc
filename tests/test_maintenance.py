"""Daily maintenance: retention clears old bodies, the WAL is folded in, feed health is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from newsradar import pipeline
from newsradar.config import Config, load_config
from newsradar.errors import StoreError, StoreLockedError
from newsradar.maintenance import (
    close_interrupted,
    health_markdown,
    record_failure,
    run_maintenance,
)
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, serve_seed
from tests.store.holder import holding


def test_maintenance_prunes_checkpoints_and_reports(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    serve_seed(http_server)
    feeds = (
        f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n\n'
        f'[[feed]]\nname = "gone"\nurl = "{http_server.url("/gone.xml")}"\n'
    )
    config_dir = write_config(tmp_path, feeds=feeds, watchlist=WATCHLIST)
    settings = config_dir / "newsradar.toml"
    settings.write_text(settings.read_text().replace("lock_timeout = 5", "keep_days = 3"))
    config = load_config(config_dir)
    ctx = pipeline.begin_pass(config)
    polled = pipeline.poll_feeds(config, ctx)
    stored = pipeline.store_entries(config, ctx, polled)
    pipeline.finish_pass(config, ctx, polled, stored, None)

    soon = run_maintenance(config, now=datetime.now(UTC) + timedelta(days=1))
    later = run_maintenance(config, now=datetime.now(UTC) + timedelta(days=4))

    assert (soon.pruned, later.pruned) == (0, 2)
    assert [f.feed_id for f in later.feeds] == ["gone", "wire"]  # worst first
    assert [f.feed_id for f in later.failing] == ["gone"]
    assert later.activity.last_stored_at is not None
    markdown = health_markdown(later)
    assert "| gone | failing | 1 |" in markdown and "cleared: 2" in markdown
    assert not config.storage.database.with_suffix(".duckdb.wal").exists()
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        assert con.execute("SELECT count(*), count(text) FROM articles").fetchone() == (2, 0)
        assert con.execute("SELECT count(*) FROM matches").fetchone()[0] > 0  # type: ignore[index]


def test_a_pass_that_never_finished_is_recorded_as_interrupted(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST))
    assert close_interrupted(config) == 0
    assert not config.storage.database.exists()
    pipeline.begin_pass(config)  # ... and the process dies here

    assert close_interrupted(config) == 1
    assert close_interrupted(config) == 0
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        row = con.execute("SELECT status, finished_at IS NOT NULL, message FROM runs").fetchone()
    assert row is not None and row[:2] == ("interrupted", True)
    # All the next pass knows is that the row was left running: it does not claim a kill.
    assert "left no reason" in row[2] and "was killed" not in row[2]


# Errors that stop a pass, and the status its runs row gets for each.
STOPPED = [
    (StoreError("cannot write database x: the disk refused the write"), "failed"),
    (StoreLockedError("database x is locked by process 7; waited 60 s."), "locked"),
]


@pytest.mark.parametrize(("error", "status"), STOPPED)
def test_a_pass_that_stopped_on_an_error_is_recorded_with_its_reason(
    tmp_path: Path, error: StoreError, status: str
) -> None:
    config = load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST))
    ctx = pipeline.begin_pass(config)

    assert record_failure(config, ctx.run_id, error) == "recorded"
    assert close_interrupted(config) == 0  # the next pass keeps the reason
    # A row that has ended is left as it is.
    assert record_failure(config, ctx.run_id, error) == "unrecorded"
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        row = con.execute("SELECT status, finished_at IS NOT NULL, message FROM runs").fetchone()
    assert row == (status, True, str(error))


@pytest.mark.parametrize(("error", "status"), STOPPED)
def test_a_pass_that_stopped_before_writing_its_row_gets_one_begun_and_ended_then(
    tmp_path: Path, error: StoreError, status: str
) -> None:
    """Its begin-pass never committed a row (the database was held all along): recording the
    failure writes one, so `runs` shows every pass that started."""
    config = load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST))
    earlier = pipeline.begin_pass(config)  # the database exists, with another pass's row
    at = datetime(2026, 1, 1, 6, tzinfo=UTC)

    assert record_failure(config, "20260101T060000-cccccccc", error, now=at) == "recorded"
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        rows = con.execute(
            "SELECT id, started_at, finished_at, status, message FROM runs ORDER BY id"
        ).fetchall()
    assert rows[0] == ("20260101T060000-cccccccc", at, at, status, str(error))
    assert [(i, s) for i, _, _, s, _ in rows[1:]] == [(earlier.run_id, "running")]


def _finished(config: Config, outcome: str) -> str:
    """The id of a pass that ended ``completed`` or ``failed``."""
    ctx = pipeline.begin_pass(config)
    if outcome == "completed":
        polled = pipeline.poll_feeds(config, ctx)
        pipeline.finish_pass(config, ctx, polled, pipeline.store_entries(config, ctx, polled), None)
    else:
        record_failure(config, ctx.run_id, StoreError("the disk refused the write"))
    return ctx.run_id


@pytest.mark.parametrize("outcome", ["completed", "failed"])
def test_a_failure_reported_for_a_pass_that_already_ended_leaves_its_row_alone(
    tmp_path: Path, outcome: str
) -> None:
    config = load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST))
    run_id = _finished(config, outcome)
    query = "SELECT * FROM runs"
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        before = con.execute(query).fetchall()
    late = StoreLockedError("database x is locked by process 7; waited 60 s.")

    assert record_failure(config, run_id, late) == "unrecorded"
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        assert con.execute(query).fetchall() == before
    assert [row[3] for row in before] == [outcome]


def test_a_failure_the_held_database_refused_is_recorded_by_the_next_pass(tmp_path: Path) -> None:
    """Two passes stopped on errors while an analyst's session held the file: each leaves a
    note beside the database, and the next pass records both with their real reasons."""
    config_dir = write_config(tmp_path, feeds="", watchlist=WATCHLIST)
    settings = config_dir / "newsradar.toml"
    settings.write_text(settings.read_text().replace("lock_timeout = 5", "lock_timeout = 0.3"))
    config = load_config(config_dir)
    database = config.storage.database
    locked = pipeline.begin_pass(config, run_id="20260101T000000-aaaaaaaa")
    failed = pipeline.begin_pass(config, run_id="20260101T000100-bbbbbbbb")
    held = StoreLockedError(f"database {database} is locked by process 7; waited 0.3 s")
    refused = StoreError(f"cannot write database {database}: the disk refused the write")
    at = datetime(2026, 1, 1, 0, 2, tzinfo=UTC)

    with holding(database, "read"):
        assert record_failure(config, locked.run_id, held) == "noted"
        assert record_failure(config, failed.run_id, refused) == "noted"
        # A third pass found the file held from the start: it never wrote its row.
        assert record_failure(config, "20260101T000200-cccccccc", held, now=at) == "noted"

    assert close_interrupted(config) == 0  # nothing was interrupted
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "SELECT status, message, finished_at IS NOT NULL FROM runs ORDER BY id"
        ).fetchall()
        begun = con.execute(
            "SELECT started_at, finished_at FROM runs WHERE id = '20260101T000200-cccccccc'"
        ).fetchall()
    assert rows == [
        ("locked", str(held), True),
        ("failed", str(refused), True),
        ("locked", str(held), True),
    ]
    assert begun == [(at, at)]
    assert sorted(p.name for p in database.parent.iterdir() if "unrecorded" in p.name) == []
