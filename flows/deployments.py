"""The deployments ``newsradar serve`` runs: ingest, alerts and maintenance on their schedules.

Each allows one run at a time and cancels a newcomer that finds one still running (a slow pass
is never doubled up); the OS-level run lock inside the flows covers leaked Prefect slots.

    serve_deployments(Path("config").resolve(), schedules_of(load_config("config")))
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval, Schedule
from prefect.types.entrypoint import EntrypointType

from flows.alerts import alerts
from flows.ingest import ingest
from flows.maintenance import maintenance
from newsradar.config import SETTINGS_FILE
from newsradar.errors import ConfigError
from newsradar.schedules import ScheduleSpec

__all__ = ["ONE_AT_A_TIME", "build_deployments", "serve_deployments"]

ONE_AT_A_TIME = ConcurrencyLimitConfig(
    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
)
_FLOWS: dict[str, Any] = {"ingest": ingest, "alerts": alerts, "maintenance": maintenance}


def _schedule(name: str, spec: ScheduleSpec, config_dir: Path) -> Schedule:
    try:
        if spec.cron is not None:
            return Cron(spec.cron, timezone=spec.timezone)
        assert spec.interval is not None
        return Interval(spec.interval, timezone=spec.timezone)
    except ValueError as exc:
        raise ConfigError(str(config_dir / SETTINGS_FILE), f"schedule.{name}", str(exc)) from exc


def build_deployments(
    config_dir: Path, schedules: Mapping[str, ScheduleSpec]
) -> list[RunnerDeployment]:
    """One deployment per flow, named after it, with its schedule and a limit of one run."""
    deployments = []
    for name, spec in schedules.items():
        deployments.append(
            _FLOWS[name].to_deployment(
                name=name,
                schedules=[_schedule(name, spec, config_dir)],
                concurrency_limit=ONE_AT_A_TIME,
                parameters={"config_dir": str(config_dir)},
                tags=["newsradar"],
                # Runs import the flow by module, so they work from any working directory.
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


def serve_deployments(config_dir: Path, schedules: Mapping[str, ScheduleSpec]) -> None:
    """Serve until SIGTERM or Ctrl-C; a run in progress is cancelled gracefully."""
    serve(*build_deployments(config_dir, schedules), print_starting_message=False)
