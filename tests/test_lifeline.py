"""Pool workers end with a pass killed by SIGKILL instead of waiting forever."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

# A pass-like process: parses one feed in the real parser pool, says who its workers are, and
# waits to be killed.
SCRIPT = """
import time
from newsradar.feeds import _WORKERS, parse_feed
body = b'<rss version="2.0"><channel><title>t</title><item><title>a</title></item></channel></rss>'
parse_feed("f", body, headers={}, base_url="https://e.org/f.xml", max_entries=10, time_limit=60)
print(*_WORKERS.get()._processes, flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is left


def test_feed_parser_workers_exit_when_the_pass_is_killed() -> None:
    repo = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=repo, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(_running(p) for p in pids)
        proc.kill()
    deadline = time.monotonic() + 20
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [p for p in pids if _running(p)]
    for pid in alive:  # do not leave them behind when the assertion fails
        os.kill(pid, 9)
    assert alive == []
