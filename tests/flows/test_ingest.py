"""The ingest flow under Prefect's test harness."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from flows.ingest import DELAYS, ingest, retry_transient

from newsradar import pipeline
from newsradar.config import load_config
from newsradar.errors import RunLockedError, StoreError, StoreLockedError
from newsradar.runlock import run_lock
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, serve_seed


@pytest.fixture
def config_dir(tmp_path: Path, http_server: LoopbackHTTPServer) -> Path:
    serve_seed(http_server)
    feeds = f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n'
    return write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)


@pytest.mark.usefixtures("prefect_harness")
def test_flow_runs_a_whole_pass(config_dir: Path) -> None:
    summary = ingest(str(config_dir))

    assert summary.articles_stored == 2
    assert "nato" in summary.matches_per_watch
    database = load_config(config_dir).storage.database
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]


@pytest.mark.usefixtures("prefect_harness")
def test_a_second_pass_while_one_holds_the_run_lock_is_refused(config_dir: Path) -> None:
    database = load_config(config_dir).storage.database
    with run_lock(database.with_suffix(".lock")), pytest.raises(RunLockedError, match="PID"):
        ingest(str(config_dir))
    assert not database.exists()


class _State:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def result(self) -> None:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "retried"),
    [(RunLockedError("busy"), True), (ValueError("bug"), False)],
)
def test_only_transient_errors_are_retried(exc: BaseException, retried: bool) -> None:
    assert retry_transient(None, None, _State(exc)) is retried


@pytest.mark.usefixtures("prefect_harness")
def test_a_pass_that_fails_says_why_in_runs(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: object, **_kwargs: object) -> None:
        raise StoreError("cannot write database x: the disk refused the write")

    monkeypatch.setattr(pipeline, "store_entries", refused)
    with pytest.raises(StoreError):
        ingest(str(config_dir))

    database = load_config(config_dir).storage.database
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute("SELECT status, finished_at IS NOT NULL, message FROM runs").fetchone()
    assert row == ("failed", True, "cannot write database x: the disk refused the write")


@pytest.mark.usefixtures("prefect_harness")
def test_a_transient_error_is_retried_after_the_configured_delays(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RELIABILITY E34: not only which errors are retried, but after how long (2 s, then 10 s;
    Prefect's jitter keeps each within 0.63-1.5 times that): a database held by an analyst
    gets time to be let go."""
    attempts: list[float] = []
    store = pipeline.store_entries

    def held_twice(*args: Any, **kwargs: Any) -> pipeline.StoreResult:
        attempts.append(time.monotonic())
        if len(attempts) <= len(DELAYS):
            raise StoreLockedError("database x is held by another process")
        return store(*args, **kwargs)

    monkeypatch.setattr(pipeline, "store_entries", held_twice)
    summary = ingest(str(config_dir))

    assert summary.articles_stored == 2
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert len(gaps) == len(DELAYS)
    assert all(gap >= delay * 0.5 for gap, delay in zip(gaps, DELAYS, strict=True)), gaps


def _runs(database: Path) -> list[tuple[str, str, str | None]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("SELECT id, status, message FROM runs ORDER BY started_at").fetchall()


@pytest.mark.usefixtures("prefect_harness")
def test_a_begin_retried_after_its_row_was_committed_keeps_one_row(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault is where begin-pass reads the database after committing its runs row (as a
    failed checkpoint would be): the retry reuses that row, so no stray one is left behind
    for the next pass to mark interrupted."""
    load = pipeline.load_feed_states
    calls: list[int] = []

    def held_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise StoreLockedError("database x is held by another process")
        return load(*args, **kwargs)

    monkeypatch.setattr(pipeline, "load_feed_states", held_once)
    first = ingest(str(config_dir), retry_delays=[0, 0])
    second = ingest(str(config_dir), retry_delays=[0, 0])

    database = load_config(config_dir).storage.database
    assert [(i, s) for i, s, _ in _runs(database)] == [
        (first.run_id, "completed"),
        (second.run_id, "completed"),
    ]


@pytest.mark.usefixtures("prefect_harness")
def test_a_begin_that_fails_for_good_after_committing_its_row_records_why(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def held(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreLockedError("database x is held by another process")

    monkeypatch.setattr(pipeline, "load_feed_states", held)
    with pytest.raises(StoreLockedError):
        ingest(str(config_dir), retry_delays=[0, 0])

    database = load_config(config_dir).storage.database
    assert [(s, m) for _, s, m in _runs(database)] == [
        ("locked", "database x is held by another process")
    ]
