"""Time and size limits (RELIABILITY A1, A2, A10-A13): typed errors, bounded memory."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from socket import socket

import brotli
import pytest
import trustme

from newsradar.errors import FetchError, PermanentFetchError, TransientFetchError
from newsradar.fetch import Fetcher
from tests.fetch.helpers import RSS, run, settings
from tests.loopback import LoopbackHTTPServer, RawTCPServer, Response

FEED = {"Content-Type": "application/rss+xml"}
CAP = 1 << 20


def _silent(conn: socket) -> None:
    conn.recv(65536)
    time.sleep(3)  # accepts, reads the request, never answers


def _drip(conn: socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n")
    conn.sendall(b"Content-Length: 100000\r\n\r\n<rss>")
    for _ in range(100):
        time.sleep(0.1)  # well inside the read timeout, forever in total
        conn.sendall(b" ")


def test_silent_server_times_out_and_other_feeds_still_run(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/feed.xml", RSS, headers=FEED)
    silent = RawTCPServer(_silent).start()
    try:

        async def both(f: Fetcher) -> list[object]:
            return await asyncio.gather(
                f.fetch_feed(silent.url("/feed.xml")),
                f.fetch_feed(http_server.url("/feed.xml")),
                return_exceptions=True,
            )

        hung, fine = run(both, settings(timeout=0.3))
        assert isinstance(hung, TransientFetchError) and hung.kind == "timeout"
        assert getattr(fine, "body", None) == RSS
    finally:
        silent.stop()


def test_slow_drip_hits_the_overall_deadline() -> None:
    drip = RawTCPServer(_drip).start()
    try:
        with pytest.raises(TransientFetchError) as info:
            run(lambda f: f.fetch_feed(drip.url("/feed.xml")), settings(timeout=1, deadline=0.6))
        assert info.value.kind == "deadline_exceeded"
        assert "deadline" in str(info.value)
    finally:
        drip.stop()


def _chunked(total: int, piece: bytes = b"x" * 65536) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
        sent += len(piece)
    yield b"0\r\n\r\n"


def _gzip_bomb(mb: int) -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(co.compress(b"\0" * (1 << 20)) for _ in range(mb)) + co.flush()


GZIP_BOMB = _gzip_bomb(64)
BROTLI_BOMB = brotli.compress(b"\0" * (256 << 20), quality=1)


@pytest.mark.parametrize(
    ("name", "response"),
    [
        (
            "content-length",
            Response(200, lambda: iter([b"<rss>"]), {**FEED, "Content-Length": str(100 << 20)}),
        ),
        (
            "chunked",
            Response(200, lambda: _chunked(100 << 20), {**FEED, "Transfer-Encoding": "chunked"}),
        ),
        ("gzip-bomb", Response(200, GZIP_BOMB, {**FEED, "Content-Encoding": "gzip"})),
        ("brotli-bomb", Response(200, BROTLI_BOMB, {**FEED, "Content-Encoding": "br"})),
        (
            "gzip-gzip",
            Response(200, gzip.compress(GZIP_BOMB), {**FEED, "Content-Encoding": "gzip, gzip"}),
        ),
    ],
)
def test_bodies_over_the_cap_are_refused_with_bounded_memory(
    http_server: LoopbackHTTPServer, name: str, response: Response
) -> None:
    http_server.route("/big", handler=lambda _req: response)
    tracemalloc.start()
    try:
        with pytest.raises(PermanentFetchError) as info:
            run(lambda f: f.fetch_feed(http_server.url("/big")), settings(max_feed_bytes=CAP))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.kind == "too_large"
    # The body is held up to the cap once, plus a join: nowhere near 64-256 MB decoded.
    assert peak < 8 * CAP, f"{name}: peak {peak} bytes"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "gzip, gzip", "identity"])
def test_encoded_feeds_under_the_cap_decode(http_server: LoopbackHTTPServer, encoding: str) -> None:
    encoders = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": brotli.compress,
        "gzip, gzip": lambda b: gzip.compress(gzip.compress(b)),
        "identity": lambda b: b,
    }
    body = encoders[encoding](RSS)
    http_server.route("/feed", body, headers={**FEED, "Content-Encoding": encoding})
    assert run(lambda f: f.fetch_feed(http_server.url("/feed")), settings()).body == RSS
    sent = http_server.requests[0].headers["accept-encoding"]
    assert sent == "gzip, deflate, br"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "gzip, gzip"])
def test_compressed_bodies_cut_short_are_not_taken_as_whole(
    http_server: LoopbackHTTPServer, encoding: str
) -> None:
    encoders = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": brotli.compress,
        "gzip, gzip": lambda b: gzip.compress(gzip.compress(b)),
    }
    whole = encoders[encoding](RSS * 20)
    # Framing intact (Content-Length matches), but the compressed stream stops halfway: once
    # the first half of the document was stored as if it were all of it.
    http_server.route(
        "/feed", whole[: len(whole) // 2], headers={**FEED, "Content-Encoding": encoding}
    )
    with pytest.raises(TransientFetchError) as info:
        run(lambda f: f.fetch_feed(http_server.url("/feed")), settings())
    assert info.value.kind == "protocol_error"
    # An empty body is not a cut stream (some servers label even those gzip).
    http_server.route("/empty", b"", headers={**FEED, "Content-Encoding": encoding})
    with pytest.raises(PermanentFetchError, match="not_a_feed|no RSS"):
        run(lambda f: f.fetch_feed(http_server.url("/empty")), settings())


def _https_server(ca: trustme.CA, **cert: object) -> LoopbackHTTPServer:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", **cert).configure_cert(server_ctx)  # type: ignore[arg-type]
    server = LoopbackHTTPServer(ssl_context=server_ctx).start()
    server.route("/feed.xml", RSS, headers=FEED)
    return server


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.mark.parametrize("case", ["self-signed", "expired"])
def test_bad_certificates_are_a_tls_error_without_fallback(case: str) -> None:
    ca = trustme.CA()
    past = datetime.now(UTC) - timedelta(days=30)
    if case == "self-signed":  # a CA nobody trusts: as good as self-signed
        server, options = _https_server(ca), {}
    else:  # a trusted CA, but the certificate ran out
        server = _https_server(ca, not_before=past - timedelta(days=60), not_after=past)
        options = {"ssl_context": _trusting(ca)}
    try:
        with pytest.raises(PermanentFetchError) as info:
            run(lambda f: f.fetch_feed(server.url("/feed.xml")), settings(retries=2), **options)
        assert info.value.kind == "tls_error"
        assert server.requests == []  # nothing was sent without verification
        assert server.connections == 1  # permanent: not retried, no plain-HTTP fallback
    finally:
        server.stop()


def test_valid_certificate_works_through_the_guard() -> None:
    ca = trustme.CA()
    server = _https_server(ca)
    try:
        result = run(
            lambda f: f.fetch_feed(server.url("/feed.xml")), settings(), ssl_context=_trusting(ca)
        )
        assert result.body == RSS
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("text/html", b"<!doctype html><html><body><a href=/feed>feed</a></body></html>"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
        ("application/pdf", b"%PDF-1.7\n" + b"\0" * 100),
        ("application/rss+xml", b"%PDF-1.7\n" + b"\0" * 100),
        ("application/octet-stream", b"PK\x03\x04" + b"\0" * 100),
        ("text/plain", b"just words"),
        ("application/json", b'{"not": "a feed"}'),
    ],
)
def test_things_that_are_not_feeds_never_reach_the_parser(
    http_server: LoopbackHTTPServer, ctype: str, body: bytes
) -> None:
    http_server.route("/feed", body, headers={"Content-Type": ctype})
    with pytest.raises(FetchError) as info:
        run(lambda f: f.fetch_feed(http_server.url("/feed")), settings())
    assert info.value.kind == "not_a_feed"


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("text/html", RSS),  # a misconfigured server: the body decides
        ("application/octet-stream", b"\xef\xbb\xbf" + RSS),
        (
            "application/atom+xml",
            b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>',
        ),
        ("application/xml", "<?xml version='1.0' encoding='utf-16'?><rss/>".encode("utf-16")),
        ("application/feed+json", b'{"version": "https://jsonfeed.org/version/1.1", "items": []}'),
    ],
)
def test_feeds_are_recognised_by_their_body(
    http_server: LoopbackHTTPServer, ctype: str, body: bytes
) -> None:
    http_server.route("/feed", body, headers={"Content-Type": ctype})
    assert run(lambda f: f.fetch_feed(http_server.url("/feed")), settings()).body == body
