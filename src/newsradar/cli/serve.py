"""``newsradar serve``: run unattended: ingest, alerts and maintenance on their schedules."""

from __future__ import annotations

import os
import signal
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from newsradar.cli.app import ConfigDir, app, console
from newsradar.config import load_config
from newsradar.misconfig import SERVED_DATABASE_ENV
from newsradar.pipeline import compiled_matcher
from newsradar.prefect_env import configure_prefect
from newsradar.schedules import schedules_of
from newsradar.server import local_prefect_server, require_configured_server

__all__ = ["serve"]


class _Stopped(Exception):
    """SIGTERM before the runner took over its handling: unwind, stopping the server."""


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


def _like_sigterm(signum: int, frame: FrameType | None) -> None:
    # Ctrl-C takes the same road as SIGTERM: Prefect's runner cancels runs in progress
    # gracefully (each finishes its current transaction) before serve returns.
    handler = signal.getsignal(signal.SIGTERM)
    if callable(handler):
        handler(signal.SIGTERM, frame)
    else:
        raise KeyboardInterrupt


@app.command()
def serve(
    config: ConfigDir = Path("config"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> int:
    """Run unattended: ingest, alerts and maintenance on the \\[schedule] in newsradar.toml.

    Starts a local Prefect server (UI on 127.0.0.1, \\[schedule] server_port) unless
    PREFECT_API_URL points at one. SIGTERM or Ctrl-C stops everything.

    Example: newsradar serve --config config
    """
    cfg = load_config(config)
    schedules = schedules_of(cfg)
    compiled_matcher(cfg)  # a bad watch exits 2 now, not at 3 am
    # Where a run records its failure should a later edit break [storage] itself.
    os.environ[SERVED_DATABASE_ENV] = str(cfg.storage.database)
    # A service logs what it does; `newsradar run` stays quiet.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "DEBUG" if verbose else "INFO")
    configure_prefect(verbose=verbose)
    previous = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGINT, _like_sigterm)
    try:
        with ExitStack() as stack:
            if not os.environ.get("PREFECT_API_URL"):
                console.print("Starting the Prefect server ...")
                home = cfg.storage.database.parent / "prefect"
                server = stack.enter_context(
                    local_prefect_server(home, port=cfg.schedule.server_port)
                )
                os.environ["PREFECT_API_URL"] = server.api_url
                console.print(f"Prefect UI: {server.url} (server log: {server.log_path})")
            else:
                console.print(f"Using the Prefect server at {require_configured_server()}")
            # Imported late: Prefect reads its settings (PREFECT_API_URL) on import.
            from flows.deployments import serve_deployments

            for name, spec in schedules.items():
                console.print(f"  {name}: {spec.cron or spec.interval} ({spec.timezone})")
            console.print("Serving; stop with Ctrl-C or SIGTERM.")
            serve_deployments(cfg.directory, schedules)
    except _Stopped:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    console.print("Stopped.")
    return 0
