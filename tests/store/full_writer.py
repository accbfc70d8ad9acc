"""A writer whose disk fills up: run as ``python -m tests.store.full_writer PATH WHERE``.

It stores batch 0, then lets the file system refuse writes past a size (RLIMIT_FSIZE: the
process's own "small tmpfs", which needs no mount) and stores batch 1, then 2. WHERE says
which write is refused: ``wal`` (any file past 64 KB: the transaction's log, so the commit
fails) or ``checkpoint`` (past the database's size: the log fits, the checkpoint that grows the
database does not). It prints ``committed N`` after each batch it stored and
``refused: MESSAGE`` for the StoreError, exiting 3.
"""

from __future__ import annotations

import resource
import signal
import sys
from pathlib import Path

from newsradar.errors import StoreError
from newsradar.store import open_writer
from tests.store.crash_writer import write


def main() -> None:
    path, where = Path(sys.argv[1]), sys.argv[2]
    with open_writer(path) as con:
        write(con, 0)
    print("committed 0", flush=True)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write fails with EFBIG instead
    limit = 64 * 1024 if where == "wal" else path.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        for batch in (1, 2):
            with open_writer(path) as con:
                write(con, batch)
            print(f"committed {batch}", flush=True)
    except StoreError as exc:
        print(f"refused: {exc}", flush=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
