"""Pool workers end with a pass killed by SIGKILL instead of waiting forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.loopback import wait_for
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


def _ignores_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(status.split("SigIgn:")[1].split()[0], 16)
    return bool(ignored & (1 << (signal.SIGINT - 1)))


# A pass interrupted by Ctrl-C: the terminal sends SIGINT to the whole foreground group.
INTERRUPTED = """
import signal
from newsradar.feeds import _WORKERS
workers = _WORKERS.get()._processes
try:
    print(*workers, flush=True)
    signal.pause()
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_interrupts_the_pass_without_tracebacks_from_parser_workers() -> None:
    repo = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED], cwd=repo, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        # Past their initializer (or, unfixed, never): SIGINT must not find one half started.
        wait_for(lambda: all(_ignores_sigint(p) for p in pids if running(p)), timeout=20)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert out == "interrupted\n"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert all_gone(pids, timeout=20)
