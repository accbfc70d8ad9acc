"""Pool workers end with a pass killed by SIGKILL instead of waiting forever."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import all_gone, running

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


def test_feed_parser_workers_exit_when_the_pass_is_killed() -> None:
    repo = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=repo, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(running(p) for p in pids)
        proc.kill()
    gone = all_gone(pids, timeout=20)
    for pid in filter(running, pids):  # do not leave them behind when the assertion fails
        os.kill(pid, 9)
    assert gone
