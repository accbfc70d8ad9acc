"""A served run that finds the run lock held (a `newsradar run` from cron, a backup under
`flock`) is skipped with one warning line, not logged as two tracebacks in the journal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flows.deployments import build_deployments
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import get_current_settings

from newsradar.config import load_config
from newsradar.runlock import pass_lock
from newsradar.schedules import schedules_of
from tests.conftest import write_config
from tests.sample_site import WATCHLIST

ROOT = Path(__file__).resolve().parents[2]


# Each served flow, what its run logs when skipped, and its parameters for this test: the
# alerts and maintenance runs wait for the pass first (a short while here).
SERVED = [
    ("ingest", "pass_skipped", {}),
    ("alerts", "alerts_skipped", {"lock_wait": 0.3}),
    ("maintenance", "maintenance_skipped", {"lock_wait": 0.3}),
]


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(("name", "event", "parameters"), SERVED, ids=[s[0] for s in SERVED])
def test_a_served_run_that_finds_the_lock_held_is_skipped_without_a_traceback(
    tmp_path: Path, name: str, event: str, parameters: dict[str, float]
) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    deployments = build_deployments(config, schedules_of(load_config(config)))
    deployment_id = next(d for d in deployments if d.name == name).apply()
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}

    with pass_lock(load_config(config).storage.database):
        # What the runner of `newsradar serve` starts for each scheduled run.
        engine = subprocess.run(
            [sys.executable, "-m", "prefect.engine", str(flow_run.id)],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    output = engine.stdout + engine.stderr
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    assert engine.returncode == 0, output
    assert "Traceback" not in output
    assert event in output and "another pass" in output
    assert state is not None and state.type == StateType.COMPLETED, state
    assert state.name == "Skipped"
    assert "another pass" in (state.message or "")


def test_a_cron_run_while_a_served_pass_holds_the_lock_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    """RELIABILITY E32 from cron: exit 1 and one line naming the holder, per docs/operations.md."""
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    database = load_config(config).storage.database
    # Another process in the middle of a pass, as a served run is.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from newsradar.runlock import pass_lock\n"
         "with pass_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(120)",
         str(database)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        cron = subprocess.run(
            [sys.executable, "-m", "newsradar", "run", "--config", str(config)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()

    assert cron.returncode == 1, cron.stderr
    lines = cron.stderr.strip().splitlines()
    assert len(lines) == 1, cron.stderr
    assert f"another pass (PID {holder.pid})" in lines[0]
    assert not database.exists()  # nothing was written beside the holder
