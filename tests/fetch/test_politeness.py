"""Politeness, retries and Retry-After (RELIABILITY A3, A4, A14), plus identity headers."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import trustme

from newsradar.errors import TransientFetchError
from newsradar.fetch import Fetcher, backoff_delay, parse_retry_after
from tests.fetch.helpers import RSS, names, run, settings
from tests.loopback import LoopbackHTTPServer, RawTCPServer, Request, Response

FEED = {"Content-Type": "application/rss+xml"}
HOSTS = names({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"], "busy.test": ["127.0.0.1"]})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("99999999999", 86_400.0),  # a hostile value cannot silence a host for months
        ("Sun, 29 Nov 2026 08:02:00 GMT", 120.0),
        ("Sun, 29 Nov 2026 07:00:00 GMT", 0.0),  # in the past: go now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


def test_backoff_grows_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, 1.0, 60.0, rng) for n in range(10)]
    for n, delay in enumerate(delays):
        ceiling = min(60.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jitter: no two retries in lock step
    assert max(delays) <= 60.0


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_429_blocks_the_whole_host_across_runs(http_server: LoopbackHTTPServer, form: str) -> None:
    retry_after = "120"
    if form == "http-date":
        retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    http_server.route("/a", status=429, headers={"Retry-After": retry_after})
    http_server.route("/b", RSS, headers=FEED)
    port = http_server.port

    async def poll(f: Fetcher) -> tuple[list[object], dict[str, datetime]]:
        results: list[object] = []
        for url in (
            f"http://a.test:{port}/a",
            f"http://a.test:{port}/b",
            f"http://b.test:{port}/b",
        ):
            try:
                results.append(await f.fetch_feed(url))
            except TransientFetchError as exc:
                results.append(exc)
        return results, f.host_blocks

    (limited, skipped, other), blocks = run(poll, settings(retries=2), resolver=HOSTS)
    assert isinstance(limited, TransientFetchError) and limited.kind == "rate_limited"
    assert limited.status == 429 and 100 <= (limited.retry_after or 0) <= 120
    assert isinstance(skipped, TransientFetchError) and skipped.kind == "rate_limited"
    assert getattr(other, "status", None) == 200  # other hosts are unaffected
    assert http_server.hits("/a") == 1  # over backoff_cap: no in-run retry
    assert http_server.hits("/b") == 1  # only b.test was asked
    assert set(blocks) == {"a.test"}
    assert timedelta(seconds=100) < blocks["a.test"] - datetime.now(UTC) <= timedelta(seconds=121)

    # The next run starts with the persisted blocks: still no request to a.test.
    with pytest.raises(TransientFetchError):
        run(
            lambda f: f.fetch_feed(f"http://a.test:{port}/b"),
            settings(),
            host_blocks=blocks,
            resolver=HOSTS,
        )
    assert http_server.hits("/b") == 1


def _flaky(failures: int, status: int, headers: dict[str, str]) -> tuple[object, list[float]]:
    seen: list[float] = []

    def handler(_req: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) <= failures:
            return Response(status, b"busy", headers)
        return Response(200, RSS, FEED)

    return handler, seen


def test_garbage_retry_after_falls_back_to_default_backoff(http_server: LoopbackHTTPServer) -> None:
    handler, seen = _flaky(1, 429, {"Retry-After": "in a bit"})
    http_server.route("/feed", handler=handler)  # type: ignore[arg-type]
    result = run(lambda f: f.fetch_feed(http_server.url("/feed")), settings(retries=1))
    assert result.status == 200
    assert len(seen) == 2
    assert seen[1] - seen[0] >= 0.04  # waited the default back-off (backoff_cap = 0.05 s)


def test_503_five_times_then_200_is_retried_with_growing_backoff(
    http_server: LoopbackHTTPServer,
) -> None:
    handler, seen = _flaky(5, 503, {})
    http_server.route("/feed", handler=handler)  # type: ignore[arg-type]
    fetch = settings(retries=5, backoff_base=0.01, backoff_cap=0.08)
    assert run(lambda f: f.fetch_feed(http_server.url("/feed")), fetch).status == 200
    assert len(seen) == 6
    # Too few retries: the transient error surfaces with its kind for feed health.
    handler, seen = _flaky(5, 503, {})
    http_server.route("/feed", handler=handler)  # type: ignore[arg-type]
    with pytest.raises(TransientFetchError) as info:
        run(lambda f: f.fetch_feed(http_server.url("/feed")), settings(retries=2))
    assert (info.value.kind, info.value.status, len(seen)) == ("http_5xx", 503, 3)


def test_per_host_limit_and_delay_hold_whatever_the_global_concurrency(
    http_server: LoopbackHTTPServer,
) -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}
    starts: list[float] = []

    def handler(_req: Request) -> Response:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            starts.append(time.monotonic())
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return Response(200, RSS, FEED)

    http_server.route("/feed", handler=handler)
    urls = [f"http://busy.test:{http_server.port}/feed?n={n}" for n in range(60)]

    async def all_feeds(f: Fetcher) -> list[object]:
        return await asyncio.gather(*(f.fetch_feed(u) for u in urls))

    fetch = settings(concurrency=64, per_host=2, min_host_delay=0.02)
    assert len(run(all_feeds, fetch, resolver=HOSTS)) == 60
    assert state["max"] <= 2
    # 60 starts at least 0.02 s apart span >= 1.18 s; a margin absorbs server-side jitter.
    assert starts[-1] - starts[0] >= 1.0


def test_user_agent_and_per_feed_headers(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/feed", RSS, headers=FEED)
    fetch = settings(user_agent="newsradar/9.9", contact_url="https://example.org/bot")
    extra = {"X-Api-Key": "k1", "Host": "evil.example", "User-Agent": "Mozilla/5.0 (compatible)"}
    run(lambda f: f.fetch_feed(http_server.url("/feed"), headers=extra), fetch)
    run(lambda f: f.fetch_feed(http_server.url("/feed")), fetch)
    first, second = (r.headers for r in http_server.requests)
    assert first["x-api-key"] == "k1"
    assert first["host"] == f"127.0.0.1:{http_server.port}"  # reserved headers are ours
    assert first["user-agent"] == "Mozilla/5.0 (compatible)"  # the bot-wall workaround
    assert second["user-agent"] == "newsradar/9.9 (+https://example.org/bot)"


def test_feed_headers_are_not_sent_to_another_origin(http_server: LoopbackHTTPServer) -> None:
    other = f"http://b.test:{http_server.port}/feed"
    http_server.route("/moved", status=301, headers={"Location": other})
    http_server.route("/feed", RSS, headers=FEED)
    url = f"http://a.test:{http_server.port}/moved"
    run(lambda f: f.fetch_feed(url, headers={"X-Api-Key": "k1"}), settings(), resolver=HOSTS)
    first, second = (r.headers for r in http_server.requests)
    assert first["x-api-key"] == "k1"
    assert "x-api-key" not in second and second["host"].startswith("b.test")


def test_feed_headers_are_not_sent_over_a_downgrade_to_http() -> None:
    ca = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("a.test").configure_cert(tls)  # type: ignore[arg-type]
    requests: list[bytes] = []

    def serve(conn: socket.socket) -> None:
        # One port, both protocols: https://a.test:P/ redirects to http://a.test:P/, the same
        # host and port, so only the scheme tells the two origins apart.
        conn.settimeout(5)
        if conn.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS ClientHello
            conn = tls.wrap_socket(conn, server_side=True)
            moved = f"http://a.test:{server.port}/feed"
            reply = f"HTTP/1.1 301 Moved\r\nLocation: {moved}\r\nContent-Length: 0\r\n\r\n"
            out = reply.encode()
        else:
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(RSS)}\r\nConnection: close\r\n\r\n"
            out = head.encode() + RSS
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(65536)
            if not chunk:
                return
            request += chunk
        requests.append(request.lower())
        conn.sendall(out)

    server = RawTCPServer(serve).start()
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    url = f"https://a.test:{server.port}/feed"
    try:
        result = run(
            lambda f: f.fetch_feed(url, headers={"X-Api-Key": "k1"}),
            settings(),
            resolver=HOSTS,
            ssl_context=trusting,
        )
    finally:
        server.stop()
    assert result.body == RSS and len(requests) == 2
    assert b"x-api-key: k1" in requests[0]  # to the feed's own origin, encrypted
    assert b"k1" not in requests[1]  # never in clear text to http://
