"""The forkserver the pass's workers fork from."""

from __future__ import annotations

from pathlib import Path

from tests.processes import run_as_main


def test_the_server_starts_ahead_of_any_pool_without_rerunning_main(tmp_path: Path) -> None:
    script = (
        "print('main ran', flush=True)\n"
        "import multiprocessing.forkserver as fs, threading\n"
        "from newsradar import forkserver\n"
        "forkserver.start()\n"
        "for t in threading.enumerate():\n"
        "    if t.name == 'newsradar-forkserver-start': t.join()\n"
        "print(fs._forkserver._forkserver_pid, flush=True)\n"
    )
    ran, pid = run_as_main(tmp_path, script)
    assert ran == "main ran"
    assert int(pid) > 0  # the server existed before any pool asked for it
