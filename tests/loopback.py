"""Real servers on 127.0.0.1 for tests: an HTTP server with programmable routes, and SMTP.

server = LoopbackHTTPServer()
server.route("/feed.xml", body=b"<rss>...</rss>", headers={"Content-Type": "application/rss+xml"})
server.route("/slow", handler=lambda req: ...)   # full control: see Request / Response
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["LoopbackHTTPServer", "RawTCPServer", "Request", "Response"]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    # Raw header pairs as received, for byte-exact checks of validators.
    raw_headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Response:
    status: int = 200
    body: bytes | Callable[[], object] = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response | None]


class LoopbackHTTPServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with a route table and a request log."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        # TCP connections accepted, whether or not a request followed (SSRF tests want 0).
        self.connections = 0
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                req = Request(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    raw_headers=list(self.headers.items()),
                )
                with outer._lock:
                    outer.requests.append(req)
                path = self.path.split("?", 1)[0]
                handler = outer.routes.get(self.path) or outer.routes.get(path)
                resp = handler(req) if handler else Response(404, b"not found")
                if resp is None:  # the handler wrote the response itself
                    return
                try:
                    self.send_response(resp.status)
                    body = resp.body
                    if callable(body):
                        # Streaming bodies manage their own framing (e.g. chunked).
                        for k, v in resp.headers.items():
                            self.send_header(k, v)
                        self.end_headers()
                        for chunk in body():  # type: ignore[attr-defined]
                            self.wfile.write(chunk)
                            self.wfile.flush()
                        self.close_connection = True
                        return
                    headers = {"Content-Length": str(len(body)), **resp.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _serve
            do_HEAD = _serve

        class _Server(ThreadingHTTPServer):
            def get_request(self) -> tuple[socket.socket, object]:
                sock, addr = super().get_request()
                with outer._lock:
                    outer.connections += 1
                if ssl_context is not None:
                    sock.settimeout(5)
                    try:
                        sock = ssl_context.wrap_socket(sock, server_side=True)
                    except (ssl.SSLError, OSError):
                        sock.close()  # the client refused our certificate: good
                        raise OSError("TLS handshake failed") from None
                return sock, addr

        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        scheme = "https" if ssl_context is not None else "http"
        self.base = f"{scheme}://127.0.0.1:{self.port}"
        # A short poll interval makes stop() (and so every test's teardown) quick.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> LoopbackHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        handler: Handler | None = None,
    ) -> None:
        if handler is None:
            data = body.encode() if isinstance(body, str) else body
            fixed = Response(status, data, dict(headers or {}))
            handler = lambda _req: fixed  # noqa: E731
        self.routes[path] = handler

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.split("?", 1)[0] == path)


class RawTCPServer:
    """A TCP listener on 127.0.0.1 that hands each connection to ``behaviour`` (in a thread):
    for servers that misbehave below HTTP (never answer, drip bytes)."""

    def __init__(self, behaviour: Callable[[socket.socket], None]) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.stopped = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.behaviour(conn)
            except OSError:
                pass

    def start(self) -> RawTCPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def url(self, path: str) -> str:
        return self.base + path


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
