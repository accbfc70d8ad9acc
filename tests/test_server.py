"""The child Prefect server: refuses a busy port with the fix; health checks are real HTTP."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsradar.cli import main
from newsradar.server import ServerStartError, local_prefect_server, server_is_healthy
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST


@pytest.fixture
def environ() -> Iterator[None]:
    """`serve` sets Prefect defaults in os.environ: put it back as it was afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_a_busy_port_is_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServerStartError, match=r"\[schedule\] server_port"):
            with local_prefect_server(tmp_path, port=port):
                pass  # pragma: no cover


def test_health_is_what_the_api_answers(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/api/health", "true", headers={"Content-Type": "application/json"})

    assert server_is_healthy(http_server.url("/api"))
    assert not server_is_healthy(http_server.url("/elsewhere"))


@pytest.mark.usefixtures("environ")
def test_serve_against_an_unreachable_prefect_api_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feeds="", watchlist=WATCHLIST)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    assert main(["serve", "--config", str(config)]) == 1

    err = " ".join(capsys.readouterr().err.split())
    assert f"no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:{port}/api" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("environ")
def test_serve_on_a_busy_port_names_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feeds="", watchlist=WATCHLIST)
    os.environ.pop("PREFECT_API_URL", None)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        settings = config / "newsradar.toml"
        port = busy.getsockname()[1]
        settings.write_text(settings.read_text() + f"\n[schedule]\nserver_port = {port}\n")
        assert main(["serve", "--config", str(config)]) == 1

    err = " ".join(capsys.readouterr().err.split())
    # Settings in brackets survive the console's markup.
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "set [schedule] server_port to a free port" in err


def test_the_child_server_deletes_old_run_history(tmp_path: Path) -> None:
    """Months of passes every 15 minutes: Prefect keeps flow runs, their states and logs
    forever unless its vacuum of flow runs is on (only events are vacuumed by default)."""
    from newsradar.demo.__main__ import free_port

    with local_prefect_server(tmp_path / "prefect", port=free_port()) as server:
        settings = httpx.get(f"{server.api_url}/admin/settings", timeout=10).json()

    vacuum = settings["server"]["services"]["db_vacuum"]
    assert "flow_runs" in vacuum["enabled"], vacuum
