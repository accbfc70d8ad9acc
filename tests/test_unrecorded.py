"""The note of failures the database refused: whole or ignored, never in a pass's way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from newsradar import pipeline
from newsradar.config import load_config
from newsradar.maintenance import close_interrupted
from newsradar.unrecorded import UnrecordedFailure, load_failures, note_path, save_failure
from tests.conftest import write_config
from tests.sample_site import WATCHLIST


def test_a_failure_noted_twice_is_kept_once_with_the_latest_reason(tmp_path: Path) -> None:
    database = tmp_path / "radar.duckdb"
    at = datetime(2026, 1, 1, tzinfo=UTC)
    save_failure(database, UnrecordedFailure("a", "locked", "held", at))
    save_failure(database, UnrecordedFailure("b", "failed", "disk", at))
    save_failure(database, UnrecordedFailure("a", "failed", "disk too", at))

    assert load_failures(database) == (
        UnrecordedFailure("b", "failed", "disk", at),
        UnrecordedFailure("a", "failed", "disk too", at),
    )


@pytest.mark.parametrize("text", ["", "{not json", '[{"run_id": "x"}]', '{"a": 1}'])
def test_an_unreadable_note_leaves_the_run_interrupted_and_is_removed(
    tmp_path: Path, text: str
) -> None:
    config = load_config(write_config(tmp_path, feeds="", watchlist=WATCHLIST))
    ctx = pipeline.begin_pass(config)
    note_path(config.storage.database).write_text(text)

    assert close_interrupted(config) == 1
    assert not note_path(config.storage.database).exists()
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        assert con.execute("SELECT id, status FROM runs").fetchall() == [
            (ctx.run_id, "interrupted")
        ]
