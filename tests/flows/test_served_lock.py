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


@pytest.mark.usefixtures("prefect_harness")
def test_a_served_pass_that_finds_the_lock_held_is_skipped_without_a_traceback(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    ingest = build_deployments(config, schedules_of(load_config(config)))[0]
    deployment_id = ingest.apply()
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run_from_deployment(deployment_id)
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
    assert "pass_skipped" in output and "another pass" in output
    assert state is not None and state.type == StateType.COMPLETED, state
    assert state.name == "Skipped"
    assert "another pass" in (state.message or "")
