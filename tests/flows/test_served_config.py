"""A served pass that finds the configuration broken (the user edited it while `newsradar serve`
runs) fails in one line, leaves a `runs` row saying why, and the next pass after the fix works.

Each pass runs the way the runner of `newsradar serve` runs it: `python -m prefect.engine` in a
process of its own, against a real Prefect server and real files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import duckdb
import pytest
from flows.deployments import build_deployments
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, StateType
from prefect.settings import get_current_settings

from newsradar.config import load_config
from newsradar.misconfig import SERVED_DATABASE_ENV
from newsradar.schedules import schedules_of
from newsradar.store import open_writer
from tests.conftest import write_config
from tests.sample_site import WATCHLIST

ROOT = Path(__file__).resolve().parents[2]


def deploy(config: Path, name: str = "ingest") -> UUID:
    """A deployment `newsradar serve` registers, while the configuration is good."""
    deployments = build_deployments(config, schedules_of(load_config(config)))
    return next(d for d in deployments if d.name == name).apply()


def served_pass(deployment_id: UUID, *, served_database: Path | None = None) -> tuple[str, State]:
    """Run one served run of the deployment, as its runner does: its output and final state."""
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run_from_deployment(deployment_id)
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    env.pop(SERVED_DATABASE_ENV, None)
    if served_database is not None:  # what `newsradar serve` hands down to its runs
        env[SERVED_DATABASE_ENV] = str(served_database)
    engine = subprocess.run(
        [sys.executable, "-m", "prefect.engine", str(flow_run.id)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = engine.stdout + engine.stderr
    assert engine.returncode == 0, output
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    assert state is not None
    return output, state


def runs(database: Path) -> list[tuple[str, str | None]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("SELECT status, message FROM runs ORDER BY started_at, id").fetchall()


@pytest.mark.usefixtures("prefect_harness")
def test_a_broken_settings_file_fails_the_pass_in_one_line_and_the_fixed_one_runs(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    database = load_config(config).storage.database
    settings = config / "newsradar.toml"
    good = settings.read_text()
    deployment_id = deploy(config)
    output, state = served_pass(deployment_id, served_database=database)
    assert state.type == StateType.COMPLETED, output

    # The user breaks the TOML: [storage] cannot be read, so the row goes to the database
    # `newsradar serve` was started with.
    settings.write_text(good + "\n[newsradar\n")
    output, state = served_pass(deployment_id, served_database=database)

    expected = f"configuration error: {settings}: not valid TOML (Expected ']' at the end of a"
    where = f"(at line {len(good.splitlines()) + 2}, column 11)"
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "| ERROR" in line]
    assert len(lines) == 1, output
    assert expected in lines[0] and where in lines[0]
    assert state.type == StateType.FAILED, state
    assert (state.message or "").startswith(f"configuration error: {settings}: not valid TOML")
    assert [status for status, _ in runs(database)] == ["completed", "failed"]
    message = runs(database)[1][1]
    assert message is not None and message.startswith(f"configuration error: {settings}")

    settings.write_text(good)
    output, state = served_pass(deployment_id, served_database=database)
    assert state.type == StateType.COMPLETED, output
    assert [status for status, _ in runs(database)] == ["completed", "failed", "completed"]


BROKEN = {
    "unknown key in feeds.toml": (
        "feeds.toml",
        '[[feed]]\nname = "wire"\nurl = "http://127.0.0.1:9/feed.xml"\nurll = "x"\n',
        "feeds.toml: feed 'wire'.urll: unknown key; check the spelling",
    ),
    "bad watchlist query": (
        "watchlist.toml",
        '[[watch]]\nid = "nato"\nquery = "NATO AND ("\n',
        "watchlist.toml: watch 'nato', column",
    ),
}


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("broken", BROKEN.values(), ids=BROKEN.keys())
def test_a_served_pass_records_a_broken_file_in_the_database_its_settings_name(
    tmp_path: Path, broken: tuple[str, str, str]
) -> None:
    name, text, expected = broken
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    database = load_config(config).storage.database
    with open_writer(database):  # a database earlier passes created
        pass
    deployment_id = deploy(config)
    (config / name).write_text(text)

    # No database handed down (a worker elsewhere): [storage] still parses and names it.
    output, state = served_pass(deployment_id)

    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "| ERROR" in line]
    assert len(lines) == 1 and expected in lines[0], output
    assert state.type == StateType.FAILED, state
    assert [status for status, _ in runs(database)] == ["failed"]
    assert expected in (runs(database)[0][1] or "")


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(
    ("name", "skipped"),
    [("alerts", "no digest was sent"), ("maintenance", "no checkpoint, retention or feed health")],
)
def test_the_other_served_flows_fail_in_one_line_and_write_no_runs_row(
    tmp_path: Path, name: str, skipped: str
) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    database = load_config(config).storage.database
    with open_writer(database):
        pass
    deployment_id = deploy(config, name)
    (config / "watchlist.toml").unlink()

    output, state = served_pass(deployment_id, served_database=database)

    expected = f"configuration error: {config / 'watchlist.toml'}: file not found; create it"
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "| ERROR" in line]
    assert len(lines) == 1 and expected in lines[0] and skipped in lines[0], output
    assert state.type == StateType.FAILED, state
    assert runs(database) == []  # runs holds monitoring passes only
