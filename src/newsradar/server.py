"""A local Prefect server as a child process of ``newsradar serve``.

Prefect's temporary server runs no scheduler, so a served cron would never fire against it.
``newsradar serve`` therefore starts ``prefect server start`` itself (SQLite under the data
directory, API and UI on 127.0.0.1), waits for its health endpoint, and stops it on exit:

    with local_prefect_server(data_dir / "prefect", port=4200) as server:
        os.environ["PREFECT_API_URL"] = server.api_url
        ...  # serve deployments

The child runs in its own session so a Ctrl-C in the terminal reaches ``newsradar serve`` only,
which stops its runs first and the server last; on Linux the child also dies with its parent,
so even a SIGKILLed ``newsradar serve`` leaves no server behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from newsradar.errors import NewsradarError
from newsradar.lifeline import signal_when_parent_dies

__all__ = [
    "LocalServer",
    "ServerStartError",
    "local_prefect_server",
    "require_configured_server",
    "server_is_healthy",
    "tie_temporary_server",
]

HOST = "127.0.0.1"


class ServerStartError(NewsradarError):
    """The local Prefect server did not come up."""


@dataclass(frozen=True, slots=True)
class LocalServer:
    pid: int
    # The dashboard, e.g. http://127.0.0.1:4200
    url: str
    # What PREFECT_API_URL must be for clients, e.g. http://127.0.0.1:4200/api
    api_url: str
    log_path: Path


def server_is_healthy(api_url: str, *, timeout: float = 2.0) -> bool:
    """True when a Prefect API answers its health endpoint at ``api_url``."""
    try:
        response = httpx.get(f"{api_url}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def require_configured_server(timeout: float = 10.0) -> str | None:
    """The API URL in ``PREFECT_API_URL`` once a server answers there (None when unset).

    Prefect's own failure to reach it is a traceback from deep inside a flow run; this says
    which setting is wrong and how to fix it before anything starts.
    """
    api_url = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    if not api_url:
        return None
    if not server_is_healthy(api_url, timeout=timeout):
        raise ServerStartError(
            f"no Prefect server answers at PREFECT_API_URL={api_url}; start it "
            "(prefect server start) or unset PREFECT_API_URL to let newsradar "
            "start its own"
        )
    return api_url


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((HOST, port)) == 0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    signal_when_parent_dies(signal.SIGTERM)


def tie_temporary_server() -> None:
    """Make the temporary Prefect server that ``newsradar run`` starts die with it.

    Prefect stops that server at exit, but a pass killed outright (SIGKILL, the OOM killer,
    cron's ``timeout -s KILL``) runs no exit handler and left a uvicorn process behind for
    good, one per killed pass. Prefect looks its temporary server up by port in a registry
    shared with subclasses, so registering this one first makes Prefect start and use it.
    Call from the main thread (PR_SET_PDEATHSIG follows the thread that forks), before
    anything talks to Prefect.
    """
    from types import ModuleType
    from unittest import mock

    import prefect.server.api.server as prefect_server

    base = getattr(prefect_server, "SubprocessASGIServer", None)
    if not (
        isinstance(base, type)
        and callable(getattr(base, "_run_uvicorn_command", None))
        and getattr(prefect_server, "subprocess", None) is subprocess
    ):
        # Another Prefect than the one this was written against (3.9): let Prefect start
        # its server its own way. A pass killed outright may then leave it running.
        return

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(*args, preexec_fn=_die_with_parent, **kwargs)  # type: ignore[call-overload, no-any-return]

    # The subprocess module as Prefect's server module sees it, but for Popen.
    shim = ModuleType("subprocess")
    shim.__dict__.update(vars(subprocess))
    shim.Popen = popen  # type: ignore[attr-defined]

    class _TiedServer(prefect_server.SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen[bytes]:
            with mock.patch.object(prefect_server, "subprocess", shim):
                return super()._run_uvicorn_command()

    _TiedServer().start()  # here, in the main thread, not in whichever thread asks first


def _child_env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_API_HOST=HOST,
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="true",
        PREFECT_UI_ENABLED="true",
        PREFECT_UI_API_URL=f"http://{HOST}:{port}/api",
    )
    # Prefect keeps flow runs with their states, logs and artifacts forever unless this
    # vacuum is on; a pass every 15 minutes for months grew its database without bound. Runs
    # that ended longer ago than PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD (90 days)
    # are deleted.
    env.setdefault("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", "events,flow_runs")
    return env


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def local_prefect_server(
    home: Path, *, port: int, startup_timeout: float = 120.0, stop_timeout: float = 10.0
) -> Iterator[LocalServer]:
    """Run ``prefect server start`` on 127.0.0.1:``port`` with its database in ``home``."""
    url = f"http://{HOST}:{port}"
    if _port_in_use(port):
        raise ServerStartError(
            f"port {port} on {HOST} is already in use, so newsradar cannot start its Prefect "
            "server there; set [schedule] server_port to a free port, or point PREFECT_API_URL "
            f"at a running Prefect server (e.g. {url}/api)"
        )
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", HOST,
             "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_child_env(home, port), cwd=home, start_new_session=True,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + startup_timeout
        while not server_is_healthy(f"{url}/api", timeout=1.0):
            if process.poll() is not None:
                raise ServerStartError(
                    f"the Prefect server exited with code {process.returncode} while starting; "
                    f"see {log_path}:\n{_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"the Prefect server on {url} did not answer within {startup_timeout:.0f} s; "
                    f"see {log_path}"
                )
            time.sleep(0.3)
        yield LocalServer(process.pid, url, f"{url}/api", log_path)
    finally:
        _stop(process, stop_timeout)
