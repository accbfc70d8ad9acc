"""The served deployments: schedules, parameters, and never two runs of one deployment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flows.deployments import build_deployments
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLimitStrategy, StateType
from prefect.states import Cancelled, Pending

from newsradar.config import load_config
from newsradar.schedules import schedules_of
from tests.conftest import write_config
from tests.sample_site import WATCHLIST


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    config = write_config(tmp_path / "cfg", feeds="", watchlist=WATCHLIST)
    settings = config / "newsradar.toml"
    settings.write_text(settings.read_text() + '\n[schedule]\ningest = "* * * * *"\n')
    return config


def test_one_deployment_per_flow_with_its_schedule(config_dir: Path) -> None:
    deployments = build_deployments(config_dir, schedules_of(load_config(config_dir)))

    by_name = {d.name: d for d in deployments}
    assert set(by_name) == {"ingest", "alerts", "maintenance"}
    assert [s.schedule.cron for s in by_name["ingest"].schedules] == ["* * * * *"]
    assert [s.schedule.cron for s in by_name["alerts"].schedules] == ["0 7 * * *"]
    for deployment in deployments:
        assert deployment.parameters == {"config_dir": str(config_dir)}
        assert deployment.entrypoint == f"flows.{deployment.name}.{deployment.name}"
        assert deployment.concurrency_limit == 1
        assert deployment.concurrency_options is not None
        assert deployment.concurrency_options.collision_strategy == (
            ConcurrencyLimitStrategy.CANCEL_NEW
        )


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_that_finds_one_running_is_cancelled(config_dir: Path) -> None:
    ingest = build_deployments(config_dir, schedules_of(load_config(config_dir)))[0]
    deployment_id = ingest.apply()

    with get_client(sync_client=True) as client:
        first = client.create_flow_run_from_deployment(deployment_id)
        second = client.create_flow_run_from_deployment(deployment_id)
        started = client.set_flow_run_state(first.id, Pending())
        collided = client.set_flow_run_state(second.id, Pending())
        # Free the slot for other tests in this session.
        client.set_flow_run_state(first.id, Cancelled(), force=True)

    assert started.state is not None and started.state.type == StateType.PENDING
    assert collided.state is not None and collided.state.type == StateType.CANCELLED
    assert "concurrency limit" in (collided.state.message or "")


def test_prefect_yaml_declares_the_same_deployments() -> None:
    root = Path(__file__).resolve().parents[2]
    spec = yaml.safe_load((root / "prefect.yaml").read_text())
    defaults = load_config(root / "config")
    served = build_deployments(root / "config", schedules_of(defaults))

    declared = {d["name"]: d for d in spec["deployments"]}
    assert set(declared) == {d.name for d in served}
    for deployment in served:
        entry = declared[deployment.name]
        path, func = entry["entrypoint"].split(":")
        assert (root / path).is_file() and func == deployment.name
        assert entry["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        assert entry["schedules"] == [
            {"cron": getattr(defaults.schedule, deployment.name), "timezone": "UTC"}
        ]
