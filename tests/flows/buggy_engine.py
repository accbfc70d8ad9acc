"""`python -m prefect.engine FLOW_RUN_ID` with a bug planted in the monitoring pass.

Run as ``python -m tests.flows.buggy_engine FLOW_RUN_ID``: polling feeds raises a plain
``RuntimeError`` (not a NewsradarError), as a bug in newsradar would, in a run that is
otherwise exactly what the runner of `newsradar serve` starts.
"""

from __future__ import annotations

import runpy
import sys
from typing import Any

from newsradar import pipeline

BUG = "injected bug: polling tripped over its own feet"


def _buggy_poll(*_args: Any, **_kwargs: Any) -> pipeline.PollResult:
    raise RuntimeError(BUG)


if __name__ == "__main__":
    pipeline.poll_feeds = _buggy_poll
    sys.argv = ["prefect.engine", *sys.argv[1:]]
    runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)
