"""Another process that holds the DuckDB file, as an analyst's session or a pass would.

Run as ``python -m tests.store.holder PATH read|write|pass SECONDS``: it opens the file (with
``pass``: takes the run lock of a pass writing it, as ``newsradar run`` does), prints ``ready``,
keeps it for SECONDS (or until stdin closes when SECONDS is 0), then exits.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from newsradar.runlock import pass_lock

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def holding(path: Path, mode: str = "read", seconds: float = 0) -> Iterator[subprocess.Popen[str]]:
    """Start a holder process and wait until it has the file open."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.holder", str(path), mode, str(seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


def main() -> None:
    path, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if mode == "pass":
        with pass_lock(Path(path)):
            _hold(seconds)
        return
    con = duckdb.connect(path, read_only=mode == "read")
    _hold(seconds)
    con.close()


def _hold(seconds: float) -> None:
    print("ready", flush=True)
    if seconds:
        time.sleep(seconds)
    else:
        sys.stdin.read()


if __name__ == "__main__":
    main()
