"""A disk that fills up during a batch or its checkpoint: the pass fails loudly, and what was
committed before is intact (RELIABILITY.md D30)."""

import subprocess
import sys
from pathlib import Path

import pytest

from newsradar.store import open_writer
from tests.store.crash_writer import SIZE, write

ROOT = Path(__file__).resolve().parents[2]


def _stored_batches(db: Path) -> dict[str, int]:
    with open_writer(db, lock_timeout=10) as con:
        rows = con.execute("SELECT run_id, count(*) FROM articles GROUP BY ALL").fetchall()
    return dict(rows)


@pytest.mark.parametrize("where", ["wal", "checkpoint"])
def test_a_full_disk_fails_loudly_and_keeps_what_was_committed(tmp_path: Path, where: str) -> None:
    db = tmp_path / "n.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "tests.store.full_writer", str(db), where],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    refused = done.stdout.splitlines()[-1]
    assert refused.startswith(f"refused: cannot write database {db}")
    assert "Free disk space" in refused
    assert "Traceback" not in done.stderr
    committed = {
        line.split()[1] for line in done.stdout.splitlines() if line.startswith("committed")
    }
    assert committed == {"0"}
    # Batch 0 is intact and no batch is partial. Batch 1 is absent when its log could not be
    # written; when only the checkpoint failed it was committed to the log, so it is there.
    stored = _stored_batches(db)
    assert set(stored) == ({"batch-0"} if where == "wal" else {"batch-0", "batch-1"})
    assert set(stored.values()) == {SIZE}
    # Space again: the next pass writes normally.
    with open_writer(db) as con:
        write(con, 5)
    assert _stored_batches(db)["batch-5"] == SIZE
