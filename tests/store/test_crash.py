"""SIGKILL the writer at random points, many times: nothing committed is lost, nothing doubles.

RELIABILITY.md D29. Each round starts ``tests.store.crash_writer`` (which writes through
``store.writer.write_batch`` and re-writes every batch from the first, as a re-run would) and
kills it after a random delay: one round in four during start-up (opening, WAL replay,
migration), the others while it writes batches or checkpoints. After each kill the file must
open, every batch the writer reported as committed must be there in full with its alert, and
no batch may be partial.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from newsradar.store import open_writer
from tests.store.crash_writer import MATCHES, SIZE

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 15
BATCHES = 10_000  # more than a round can write: the kill always comes first


def _writer(db: Path, batches: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_writer", str(db), str(batches)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _committed(output: str) -> set[int]:
    return {int(line.split()[1]) for line in output.splitlines() if line.startswith("committed")}


def _stored(db: Path) -> dict[int, tuple[int, int]]:
    """Batch -> (articles, matches), read through a normal writer open (migrate, checkpoint)."""
    with open_writer(db, lock_timeout=10) as con:
        rows = con.execute(
            "SELECT a.run_id, count(DISTINCT a.id), count(m.article_id)"
            " FROM articles AS a LEFT JOIN matches AS m ON m.article_id = a.id GROUP BY ALL"
        ).fetchall()
    return {int(run.removeprefix("batch-")): (n, m) for run, n, m in rows}


def _alerts(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM alerts").fetchone()
    return int(row[0]) if row else 0


def test_sigkill_at_random_points_loses_nothing_committed(tmp_path: Path) -> None:
    rng = random.Random(29)
    db = tmp_path / "crash.duckdb"
    ever_committed: set[int] = set()
    kills_after_commits = 0
    for round_ in range(ROUNDS):
        proc = _writer(db, BATCHES)
        if round_ % 4:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.6))
        else:
            time.sleep(rng.uniform(0.05, 0.5))
        os.kill(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the writer finished before the kill"
        committed = _committed(output)
        kills_after_commits += bool(committed)
        ever_committed |= committed

        stored = _stored(db)
        assert ever_committed <= set(stored), "a committed batch is missing"
        partial = {b: counts for b, counts in stored.items() if counts != (SIZE, SIZE * MATCHES)}
        assert not partial, f"partial batches after a kill: {partial}"
        # At most the one batch that committed but was not yet reported goes beyond.
        assert len(set(stored) - ever_committed) <= 1

    assert kills_after_commits >= ROUNDS // 2, "too few kills landed while writing"
    assert _alerts(db) == len(_stored(db)), "one alert per stored batch, none twice"

    # A complete re-run over everything stored adds no duplicates.
    last = max(_stored(db)) + 1
    proc = _writer(db, last)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchone() == (
            last * SIZE,
            last * SIZE,
        )
        assert con.execute("SELECT count(*) FROM matches").fetchone() == (last * SIZE * MATCHES,)
    assert _alerts(db) == last
