"""The child Prefect server: refuses a busy port with the fix; health checks are real HTTP."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from newsradar.server import ServerStartError, local_prefect_server, server_is_healthy
from tests.loopback import LoopbackHTTPServer


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
