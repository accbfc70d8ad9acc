"""A served run stopped by an error newsradar expects (the database held by an analyst's session
past ``[storage] lock_timeout``) fails in one error line with no traceback; a bug keeps its
traceback, as that is how bugs get reported.

Each run is what the runner of `newsradar serve` starts: `python -m prefect.engine` in a process
of its own, against a real Prefect server, while another real process holds the DuckDB file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import duckdb
import pytest
from flows.ingest import ingest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, StateType
from prefect.settings import get_current_settings

from newsradar.config import load_config
from newsradar.store import open_writer
from tests.conftest import write_config
from tests.flows.buggy_engine import BUG
from tests.flows.test_served_config import deploy, runs
from tests.loopback import LoopbackHTTPServer, Request, Response
from tests.sample_site import WATCHLIST, rss
from tests.store.holder import holding

ROOT = Path(__file__).resolve().parents[2]

# Retried at once: the task still tries three times, without waiting out the 2 s and 10 s.
NO_DELAYS: dict[str, Any] = {"retry_delays": [0, 0]}


def served_run(
    config: Path, name: str, parameters: dict[str, Any], engine: str = "prefect.engine"
) -> tuple[subprocess.CompletedProcess[str], State]:
    """One run of the deployment ``name``, as its runner starts it: the process and final state."""
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run_from_deployment(
            deploy(config, name), parameters=parameters
        )
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    engine_run = subprocess.run(
        [sys.executable, "-m", engine, str(flow_run.id)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    assert state is not None
    return engine_run, state


def small_lock_timeout(tmp_path: Path, feeds: str = "") -> Path:
    """A configuration whose database exists and is waited for 0.3 s when held."""
    config = write_config(tmp_path / "cfg", feeds=feeds, watchlist=WATCHLIST)
    settings = config / "newsradar.toml"
    settings.write_text(settings.read_text().replace("lock_timeout = 5", "lock_timeout = 0.3"))
    with open_writer(load_config(config).storage.database):  # earlier passes made it
        pass
    return config


# Each served flow, its parameters here, and what its line says the run did not do.
SERVED = [
    ("ingest", NO_DELAYS, "this pass did not begin"),
    ("alerts", {**NO_DELAYS, "lock_wait": 0.3}, "no digest was sent"),
    ("maintenance", {**NO_DELAYS, "lock_wait": 0.3}, "no checkpoint, retention or feed health"),
]


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(("name", "parameters", "consequence"), SERVED, ids=[s[0] for s in SERVED])
def test_a_served_run_that_finds_the_database_held_fails_in_one_line(
    tmp_path: Path, name: str, parameters: dict[str, Any], consequence: str
) -> None:
    config = small_lock_timeout(tmp_path)
    database = load_config(config).storage.database

    with holding(database, "read") as holder:  # an analyst's `duckdb -readonly` session
        engine, state = served_run(config, name, parameters)

    output = engine.stdout + engine.stderr
    assert engine.returncode == 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "| ERROR" in line]
    assert len(lines) == 1, output
    line = lines[0]
    assert f"database {database} is locked by process {holder.pid}" in line
    assert "raise [storage] lock_timeout" in line and consequence in line
    assert state.type == StateType.FAILED, state
    assert f"is locked by process {holder.pid}" in (state.message or "")
    # Nothing could be written while the file was held; an ingest pass's reason waits beside
    # it for the next pass (see the test below), the other runs keep no row.
    assert runs(database) == []


@pytest.mark.usefixtures("prefect_harness")
def test_a_served_pass_that_could_not_begin_is_recorded_locked_by_the_next_pass(
    tmp_path: Path,
) -> None:
    """The analyst held the file for the whole pass: it never wrote its runs row. Prefect's run
    says Failed; `runs`, where operators look, must say so too once the file is free."""
    config = small_lock_timeout(tmp_path)
    database = load_config(config).storage.database

    with holding(database, "read") as holder:
        engine, state = served_run(config, "ingest", NO_DELAYS)

    output = engine.stdout + engine.stderr
    lines = [line for line in output.splitlines() if "| ERROR" in line]
    assert len(lines) == 1, output
    assert state.type == StateType.FAILED, state

    ingest(str(config), retry_delays=[0, 0])  # the next pass, once the analyst let go

    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "SELECT status, message, started_at = finished_at, id FROM runs ORDER BY started_at"
        ).fetchall()
    assert [status for status, *_ in rows] == ["locked", "completed"], rows
    _, message, instant, run_id = rows[0]
    assert f"database {database} is locked by process {holder.pid}" in message
    assert instant  # begun and ended when it gave up
    # The line said where the reason would be.
    assert f"the next pass records why in runs row {run_id}" in lines[0]


@pytest.mark.usefixtures("prefect_harness")
def test_a_bug_in_a_served_pass_keeps_its_traceback_and_its_runs_row(tmp_path: Path) -> None:
    config = small_lock_timeout(tmp_path)
    database = load_config(config).storage.database

    engine, state = served_run(config, "ingest", NO_DELAYS, engine="tests.flows.buggy_engine")

    output = engine.stdout + engine.stderr
    assert "Traceback" in output and f"RuntimeError: {BUG}" in output, output
    assert state.type == StateType.FAILED, state
    assert [status for status, _ in runs(database)] == ["failed"]
    assert BUG in (runs(database)[0][1] or "")


@pytest.mark.usefixtures("prefect_harness")
def test_a_served_pass_that_loses_the_database_midway_says_what_became_of_its_runs_row(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    feeds = f'[[feed]]\nname = "wire"\nurl = "{http_server.url("/feed.xml")}"\n'
    config = small_lock_timeout(tmp_path, feeds)
    database = load_config(config).storage.database
    analyst = ExitStack()
    holders: list[subprocess.Popen[str]] = []

    def feed(_request: Request) -> Response:
        # The analyst opens the database while the pass polls its feeds (after it began).
        if not holders:
            holders.append(analyst.enter_context(holding(database, "read")))
        item = ("g-1", "NATO summit", http_server.url("/a.html"), "NATO met.")
        return Response(body=rss([item]).encode(), headers={"Content-Type": "application/rss+xml"})

    http_server.route("/feed.xml", handler=feed)
    with analyst:
        engine, state = served_run(config, "ingest", NO_DELAYS)

    output = engine.stdout + engine.stderr
    assert engine.returncode == 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "| ERROR" in line]
    assert len(lines) == 1, output
    assert f"is locked by process {holders[0].pid}" in lines[0]
    # Marking the row needs the file the analyst still held when the pass gave up: a note
    # beside the database keeps the reason, and the next pass records it there.
    assert "could not be marked either" in lines[0] and "next pass records why" in lines[0]
    assert state.type == StateType.FAILED, state
    assert runs(database) == [("running", None)]

    ingest(str(config), retry_delays=[0, 0])  # the next pass, once the analyst let go

    (status, message), (after, _) = runs(database)
    assert (status, after) == ("locked", "completed")
    assert f"is locked by process {holders[0].pid}" in (message or "")


@pytest.mark.usefixtures("prefect_harness")
def test_a_served_pass_on_a_damaged_database_fails_in_one_line(tmp_path: Path) -> None:
    config = small_lock_timeout(tmp_path)
    database = load_config(config).storage.database
    database.write_bytes(b"not a database, a failed copy of one" * 512)

    engine, state = served_run(config, "ingest", NO_DELAYS)

    output = engine.stdout + engine.stderr
    assert engine.returncode == 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "| ERROR" in line]
    assert len(lines) == 1 and f"database {database}" in lines[0], output
    assert state.type == StateType.FAILED, state
