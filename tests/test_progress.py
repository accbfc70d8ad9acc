"""Progress per stage: the pipeline reports feeds, pages and extraction; the CLI shows them."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import pytest
from rich.console import Console

from newsradar import pipeline
from newsradar.config import load_config
from newsradar.progress import current, pass_progress
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, serve_seed


def test_the_pipeline_reports_each_stage(tmp_path: Path, http_server: LoopbackHTTPServer) -> None:
    serve_seed(http_server)
    feeds = f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n'
    config = load_config(write_config(tmp_path, feeds=feeds, watchlist=WATCHLIST))
    calls: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def record(stage: str, done: int, total: int) -> None:
        with lock:
            calls.append((stage, done, total))

    ctx = pipeline.begin_pass(config)
    polled = pipeline.poll_feeds(config, ctx, progress=record)
    pipeline.store_entries(config, ctx, polled, progress=record)

    by_stage = {stage: [(d, t) for s, d, t in calls if s == stage] for stage, _, _ in calls}
    assert by_stage == {
        "feeds": [(0, 1), (1, 1)],
        "pages": [(0, 2), (1, 2), (2, 2)],
        "extraction": [(0, 2), (2, 2)],
    }


def test_a_terminal_gets_progress_bars() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)

    with pass_progress(console):
        report = current()
        assert report is not None
        report("feeds", 0, 3)
        report("feeds", 3, 3)
    assert current() is None
    assert "feeds" in out.getvalue() and "3/3" in out.getvalue()


def test_without_a_terminal_each_finished_stage_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    console = Console(file=io.StringIO(), force_terminal=False)

    with caplog.at_level(logging.INFO, logger="newsradar.progress"):
        logging.getLogger("newsradar.progress").addHandler(caplog.handler)
        try:
            with pass_progress(console):
                report = current()
                assert report is not None
                report("pages", 1, 2)
                report("pages", 2, 2)
        finally:
            logging.getLogger("newsradar.progress").removeHandler(caplog.handler)

    assert [r.getMessage() for r in caplog.records] == ["stage_done stage=pages items=2"]
