"""The wire under httpx (aiohttp): what real servers send gets through, failures keep their
kind, and pooled connections never mix two responses."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from newsradar.errors import FetchError, PermanentFetchError, TransientFetchError
from newsradar.fetch import Fetcher
from tests.fetch.helpers import RSS, names, run, settings
from tests.loopback import LoopbackHTTPServer, RawTCPServer

PAGE = b"<!doctype html><html><body><p>Hello</p></body></html>"
HTML = {"Content-Type": "text/html; charset=utf-8"}
FEED = {"Content-Type": "application/rss+xml"}


def _fail(url: str, **overrides: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        run(lambda f: f.fetch_feed(url), settings(**overrides))
    return caught.value


def _fail_on(behaviour: Callable[[socket.socket], None]) -> FetchError:
    """The error fetching a feed from a raw TCP server that does ``behaviour``."""
    server = RawTCPServer(behaviour).start()
    try:
        return _fail(server.url("/feed"))
    finally:
        server.stop()


def _answer(raw: bytes) -> Callable[[socket.socket], None]:
    """A raw server behaviour: read the request, send ``raw`` as it is, hang up."""

    def behaviour(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(raw)

    return behaviour


def test_long_and_many_headers_are_accepted(http_server: LoopbackHTTPServer) -> None:
    # Content-Security-Policy lines of tens of KB and long cookie lists are real; aiohttp's
    # defaults (8,190 bytes a line, 128 headers) would refuse them.
    headers = {**HTML, "Content-Security-Policy": "default-src 'self' " + "x" * 30_000}
    headers.update({f"X-Filler-{i}": "y" * 40 for i in range(200)})
    http_server.route("/a", PAGE, headers=headers)
    result = run(lambda f: f.fetch_page(http_server.url("/a")), settings(respect_robots=False))
    assert result.body == PAGE
    assert len(result.headers["content-security-policy"]) > 30_000


def test_refused_connection_is_connect_not_tls() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exc = _fail(f"http://127.0.0.1:{port}/feed")
    assert exc.kind == "connect"
    assert "TLS" not in str(exc) and "ssl" not in str(exc).lower()


def test_pooled_connections_are_reused_and_an_abandoned_body_is_not(
    http_server: LoopbackHTTPServer,
) -> None:
    http_server.route("/small", PAGE, headers=HTML)
    http_server.route("/big", PAGE + b"<p>" + b"z" * 200_000 + b"</p>", headers=HTML)
    fetch = settings(respect_robots=False, max_page_bytes=50_000, per_host=1, concurrency=1)

    async def sequence(fetcher: Fetcher) -> list[bytes | str]:
        out: list[bytes | str] = []
        for path in ("/small", "/small", "/big", "/small", "/small"):
            try:
                out.append((await fetcher.fetch_page(http_server.url(path))).body)
            except FetchError as exc:
                out.append(exc.kind)
        return out

    got = run(sequence, fetch)
    # The body over the cap is abandoned half-read: its connection is closed, so the next
    # request gets its own answer, not the rest of the big page.
    assert got == [PAGE, PAGE, "too_large", PAGE, PAGE]
    assert http_server.connections == 2


def test_an_endless_header_section_is_cut_off() -> None:
    def flood(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        line = b"X-Flood: " + b"a" * 1000 + b"\r\n"
        for _ in range(20_000):  # 20 MB of headers, never a blank line
            conn.sendall(line)

    assert _fail_on(flood).kind == "protocol_error"


def test_garbage_instead_of_http_is_a_protocol_error() -> None:
    def garbage(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    assert _fail_on(garbage).kind == "protocol_error"


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1"])
def test_old_ipv4_spellings_are_vetted_as_the_address_they_mean(
    http_server: LoopbackHTTPServer, host: str
) -> None:
    port = http_server.url("/").split(":")[2].split("/")[0]
    url = f"http://{host}:{port}/feed"
    assert _fail(url, allow_networks=()).kind == "blocked_address"
    assert http_server.connections == 0


@pytest.mark.parametrize("host", ["1.2.3.4.5", "999.1.1.1", "1..2"])
def test_numeric_hosts_that_are_no_address_are_bad_urls(host: str) -> None:
    # aiohttp would dial these itself rather than ask the guard's resolver.
    assert _fail(f"http://{host}/feed").kind == "bad_url"


def test_credentials_in_the_url_go_out_as_basic_auth(http_server: LoopbackHTTPServer) -> None:
    # A private feed's URL may carry user:password; httpx turns it into an Authorization
    # header, which aiohttp refuses to combine with credentials still in the URL.
    http_server.route("/feed", RSS, headers=FEED)
    url = http_server.url("/feed").replace("://", "://reader:p%40ss@")
    result = run(lambda f: f.fetch_feed(url), settings())
    assert result.body == RSS
    sent = http_server.requests[0].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(b"reader:p@ss").decode()


@pytest.mark.parametrize(
    "request_headers",
    [
        {"etag": '"a\nX-Injected: 1"'},
        {"etag": '"a\rb"'},
        {"last_modified": "Mon\x00"},
        {"headers": {"X-Api-Key": "k1\r\nX-Injected: 1"}},
        {"headers": {"X Api Key": "k1"}},
    ],
)
def test_headers_that_cannot_be_sent_are_bad_urls_before_any_request(
    http_server: LoopbackHTTPServer, request_headers: dict[str, Any]
) -> None:
    # A stored validator or a feeds.toml header with a line break must not crash the pass
    # (nor split the request): it is the feed's own permanent error.
    http_server.route("/feed", RSS, headers=FEED)
    with pytest.raises(PermanentFetchError) as caught:
        run(lambda f: f.fetch_feed(http_server.url("/feed"), **request_headers), settings())
    assert caught.value.kind == "bad_url"
    assert http_server.requests == []


@pytest.mark.parametrize("status", [b"000 Zero", b"099 Odd", b"101 Switching Protocols"])
def test_status_codes_no_final_response_has_are_protocol_errors(status: bytes) -> None:
    # Not a 3xx answer to report as permanent: a broken (or unasked-for upgrade) response.
    response = b"HTTP/1.1 %s\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n"
    exc = _fail_on(_answer(response % (status, len(RSS)) + RSS))
    assert isinstance(exc, TransientFetchError) and exc.kind == "protocol_error"


class _KeepAliveServer:
    """Answers every request on a connection until the client hangs up; counts open ones."""

    def __init__(self) -> None:
        self.open = 0
        self.lock = threading.Lock()
        self.raw = RawTCPServer(self._serve).start()

    def _serve(self, conn: socket.socket) -> None:
        with self.lock:
            self.open += 1
        try:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n"
            while conn.recv(65536):
                conn.sendall(head % len(RSS) + b"\r\n" + RSS)
        finally:
            with self.lock:
                self.open -= 1


def test_idle_connections_to_many_hosts_stay_bounded() -> None:
    # A pass touches hundreds of hosts within the keep-alive time; one idle socket kept per
    # host would run the process out of file descriptors. At most `concurrency` stay idle.
    server = _KeepAliveServer()
    hosts = {f"h{i}.test": ["127.0.0.1"] for i in range(40)}

    async def many_hosts(fetcher: Fetcher) -> int:
        for host in hosts:
            await fetcher.fetch_feed(f"http://{host}:{server.raw.port}/feed")
        for _ in range(100):  # closed sockets reach the server thread in a moment
            if server.open <= 4:
                break
            await asyncio.sleep(0.05)
        return server.open

    try:
        still_open = run(many_hosts, settings(concurrency=4, per_host=1), resolver=names(hosts))
    finally:
        server.raw.stop()
    assert server.raw.connections == 40
    assert still_open <= 4


_CT = b"Content-Type: application/rss+xml\r\n"
_CL = b"Content-Length: %d\r\n" % len(RSS)
_CHUNK = b"%x\r\n%s\r\n" % (len(RSS), RSS)


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        # Framings real servers use: all read whole.
        (b"HTTP/1.0 200 OK\r\n" + _CT + b"\r\n" + RSS, "ok"),  # read to close
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n" + _CT + _CL + b"\r\n" + RSS, "ok"),
        (
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 200 OK\r\n" + _CT + _CL + b"\r\n" + RSS,
            "ok",
        ),
        (
            b"HTTP/1.1 200 OK\r\n" + _CT + b"Transfer-Encoding: chunked\r\n\r\n"
            b"%x;ext=1\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n" % (len(RSS), RSS),
            "ok",
        ),
        (
            b"HTTP/1.1 200 OK\n" + _CT.replace(b"\r", b"") + _CL.replace(b"\r", b"") + b"\n" + RSS,
            "ok",
        ),
        (b"HTTP/1.1 200 OK\r\n" + _CT + b"X-Folded: a\r\n b\r\n" + _CL + b"\r\n" + RSS, "ok"),
        ("HTTP/1.1 200 Très bien\r\n".encode() + _CT + _CL + b"\r\n" + RSS, "ok"),
        (b"HTTP/1.1 600 Odd\r\n" + _CT + _CL + b"\r\n" + RSS, "http_5xx"),
        # Broken framing, bad status lines and headers, cut transfers: never a body.
        (b"HTTP/1.1 200 OK\r\n" + _CT + _CL + b"Content-Length: 5\r\n\r\n" + RSS, "protocol_error"),
        (b"HTTP/1.1 abc Odd\r\n" + _CT + _CL + b"\r\n" + RSS, "protocol_error"),
        (
            b"HTTP/1.1 200 OK\r\n" + _CT + b'ETag: "a\x00b"\r\n' + _CL + b"\r\n" + RSS,
            "protocol_error",
        ),
        (b"HTTP/1.1 200 OK\r\n" + _CT + b"Content-Le", "protocol_error"),
        (b"HTTP/1.1 200 OK\r\n" + _CT + b"Content-Length: 9999\r\n\r\n" + RSS, "protocol_error"),
        (
            b"HTTP/1.1 200 OK\r\n" + _CT + b"Transfer-Encoding: chunked\r\n\r\n" + _CHUNK,
            "protocol_error",
        ),
        (
            b"HTTP/1.1 200 OK\r\n" + _CT + b"Transfer-Encoding: chunked\r\n\r\nfff\r\n" + RSS,
            "protocol_error",
        ),
    ],
)
def test_what_servers_send_is_read_whole_or_refused(raw: bytes, outcome: str) -> None:
    server = RawTCPServer(_answer(raw)).start()
    try:
        result = run(lambda f: f.fetch_feed(server.url("/feed")), settings())
        got = "ok" if result.body == RSS else repr(result.body)
    except FetchError as exc:
        got = exc.kind
        # A cut or broken response is worth another try; it is never stored as complete.
        assert exc.kind != "protocol_error" or isinstance(exc, TransientFetchError)
    finally:
        server.stop()
    assert got == outcome


def test_a_pooled_connection_the_server_dropped_is_not_the_feeds_failure() -> None:
    # The server hangs up on the second request of a kept-alive connection (its idle
    # timeout and our request crossed): the request goes again on a new connection.
    def once_per_connection(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + _CT + _CL + b"\r\n" + RSS)
        conn.recv(65536)

    server = RawTCPServer(once_per_connection).start()

    async def three(fetcher: Fetcher) -> list[bytes]:
        return [(await fetcher.fetch_feed(server.url("/feed"))).body for _ in range(3)]

    try:
        bodies = run(three, settings(per_host=1, concurrency=1))
    finally:
        server.stop()
    assert bodies == [RSS, RSS, RSS]
