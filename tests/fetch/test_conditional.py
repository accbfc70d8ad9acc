"""Conditional GET and redirects (RELIABILITY A5, A6)."""

from __future__ import annotations

import pytest

from newsradar.errors import PermanentFetchError
from tests.fetch.helpers import RSS, run, settings
from tests.loopback import LoopbackHTTPServer, Request, Response

ETAG = 'W/"5e1-\u00e9;x"'.encode().decode("latin-1")  # quotes, W/ and a non-ASCII byte
MODIFIED = "Sat, 28 Nov 2026 10:00:00 GMT"


def test_validators_round_trip_byte_for_byte_and_304_has_no_body(
    http_server: LoopbackHTTPServer,
) -> None:
    def handler(req: Request) -> Response:
        if req.headers.get("if-none-match") == ETAG:
            return Response(304, b"", {"ETag": ETAG})
        return Response(
            200,
            RSS,
            {"Content-Type": "application/rss+xml", "ETag": ETAG, "Last-Modified": MODIFIED},
        )

    http_server.route("/feed", handler=handler)
    url = http_server.url("/feed")
    first = run(lambda f: f.fetch_feed(url), settings())
    assert (first.status, first.headers["etag"], first.headers["last-modified"]) == (
        200,
        ETAG,
        MODIFIED,
    )
    second = run(
        lambda f: f.fetch_feed(
            url, etag=first.headers["etag"], last_modified=first.headers["last-modified"]
        ),
        settings(),
    )
    assert second.not_modified and second.body == b""
    sent = dict(http_server.requests[1].raw_headers)
    assert sent["If-None-Match"] == ETAG
    assert sent["If-Modified-Since"] == MODIFIED
    assert "If-None-Match" not in dict(http_server.requests[0].raw_headers)


def _chain(server: LoopbackHTTPServer, hops: list[tuple[str, int, str]]) -> None:
    for path, status, target in hops:
        server.route(path, status=status, headers={"Location": target})
    server.route("/final", RSS, headers={"Content-Type": "application/rss+xml"})


@pytest.mark.parametrize(
    ("statuses", "permanent"),
    [((301, 301), 2), ((308, 301), 2), ((302, 307), 0), ((301, 302), 1)],
)
def test_redirects_report_permanent_hops_only(
    http_server: LoopbackHTTPServer, statuses: tuple[int, int], permanent: int
) -> None:
    base = http_server.base
    _chain(http_server, [("/old", statuses[0], "/mid"), ("/mid", statuses[1], f"{base}/final")])
    result = run(lambda f: f.fetch_feed(f"{base}/old"), settings())
    assert result.status == 200 and result.body == RSS
    assert result.final_url == f"{base}/final"
    assert result.url == f"{base}/old"
    assert len(result.permanent_redirects) == permanent
    if statuses == (301, 301):
        assert result.permanent_redirects == (
            (f"{base}/old", f"{base}/mid"),
            (f"{base}/mid", f"{base}/final"),
        )


def test_redirect_loops_and_long_chains_stop(http_server: LoopbackHTTPServer) -> None:
    _chain(http_server, [("/a", 302, "/b"), ("/b", 302, "/a")])
    with pytest.raises(PermanentFetchError) as info:
        run(lambda f: f.fetch_feed(http_server.url("/a")), settings(max_redirects=5))
    assert info.value.kind == "too_many_redirects"
    assert http_server.hits("/a") + http_server.hits("/b") == 6
    _chain(http_server, [("/x", 301, "/final")])
    with pytest.raises(PermanentFetchError):
        run(lambda f: f.fetch_feed(http_server.url("/x")), settings(max_redirects=0))


@pytest.mark.parametrize(("status", "headers"), [(300, {}), (301, {}), (305, {"Location": "/x"})])
def test_odd_redirects_are_http_3xx(
    http_server: LoopbackHTTPServer, status: int, headers: dict[str, str]
) -> None:
    http_server.route("/feed", status=status, headers=headers)
    with pytest.raises(PermanentFetchError) as info:
        run(lambda f: f.fetch_feed(http_server.url("/feed")), settings())
    assert (info.value.kind, info.value.status) == ("http_3xx", status)


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        # Schemes httpx cannot make a request of: they once escaped as "internal_error".
        ("javascript:alert(1)", "bad_scheme"),
        ("mailto:desk@example.org", "bad_scheme"),
        ("data:text/html,<p>hi</p>", "bad_scheme"),
        # Not URLs at all: they once came out as a transient "protocol_error", retried forever.
        ("http://[::1/story", "bad_url"),
        ("/story\x01", "bad_url"),
    ],
)
def test_unusable_redirect_targets_are_permanent_typed_errors(
    http_server: LoopbackHTTPServer, location: str, kind: str
) -> None:
    http_server.route("/feed", status=302, headers={"Location": location})
    with pytest.raises(PermanentFetchError) as info:
        run(lambda f: f.fetch_feed(http_server.url("/feed")), settings())
    assert info.value.kind == kind
    assert http_server.hits("/feed") == 1


@pytest.mark.parametrize(
    ("location", "path"),
    [
        # Raw UTF-8 in Location, as many servers send it (RFC 3986 wants it escaped): read as
        # UTF-8, like browsers; it once became /K%C3%83%C2%B6ln, a 404 that lost the page.
        ("/news/K\u00c3\u00b6ln", "/news/K%C3%B6ln"),
        # Bytes that are not UTF-8 (a Latin-1 ö) go out escaped as they came.
        ("/news/K\u00f6ln", "/news/K%F6ln"),
    ],
)
def test_non_ascii_redirect_targets_reach_the_page_the_server_meant(
    http_server: LoopbackHTTPServer, location: str, path: str
) -> None:
    # The loopback server writes header values as Latin-1, i.e. these exact bytes.
    http_server.route("/feed", status=301, headers={"Location": location})
    http_server.route(path, RSS, headers={"Content-Type": "application/rss+xml"})
    result = run(lambda f: f.fetch_feed(http_server.url("/feed")), settings())
    assert (result.status, result.body) == (200, RSS)
    assert result.final_url == http_server.url(path)
