"""SSRF guard (RELIABILITY A7, A8, A9): refused before any connection is made."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from newsradar.errors import FetchError, PermanentFetchError
from newsradar.fetch import Fetcher
from tests.fetch.helpers import RSS, names, run, settings
from tests.loopback import LoopbackHTTPServer

FEED = {"Content-Type": "application/rss+xml"}


def _fail(url: str, **kw: object) -> FetchError:
    fetch = kw.pop("fetch", settings(allow_networks=()))
    with pytest.raises(FetchError) as info:
        run(lambda f: f.fetch_feed(url), fetch, **kw)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "blocked_address"),
        ("localhost", "blocked_address"),
        ("[::1]", "blocked_address"),
        ("[::ffff:127.0.0.1]", "blocked_address"),
        ("2130706433", "blocked_address"),
        ("0x7f.1", "blocked_address"),
        ("10.0.0.1", "blocked_address"),
        ("172.16.0.1", "blocked_address"),
        ("192.168.0.1", "blocked_address"),
        ("100.64.0.1", "blocked_address"),
        ("169.254.169.254", "blocked_address"),
        ("100.100.100.200", "blocked_address"),
        ("[fd00::1]", "blocked_address"),
        ("[fe80::1]", "blocked_address"),
        ("0.0.0.0", "blocked_address"),
    ],
)
def test_private_addresses_are_refused_before_connecting(
    http_server: LoopbackHTTPServer, host: str, kind: str
) -> None:
    http_server.route("/feed.xml", RSS, headers=FEED)
    exc = _fail(f"http://{host}:{http_server.port}/feed.xml")
    assert isinstance(exc, PermanentFetchError)
    assert exc.kind == kind
    assert "allow_networks" in str(exc)
    assert http_server.connections == 0


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/feed", "gopher://example.org/", "javascript:x"],
)
def test_other_schemes_are_refused(url: str) -> None:
    exc = _fail(url)
    assert exc.kind == "bad_scheme"


def test_loopback_is_reachable_only_when_configured(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/feed.xml", RSS, headers=FEED)
    url = http_server.url("/feed.xml")
    assert run(lambda f: f.fetch_feed(url), settings()).body == RSS
    assert run(lambda f: f.fetch_feed(url), settings(allow_private_networks=True)).status == 200
    assert _fail(url).kind == "blocked_address"
    assert http_server.connections == 2


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:{port}/feed.xml"],
)
def test_redirect_to_a_private_address_is_refused(target: str) -> None:
    public = LoopbackHTTPServer().start()
    inner = LoopbackHTTPServer().start()
    try:
        inner.route("/feed.xml", RSS, headers=FEED)
        location = target.format(port=inner.port)
        public.route("/feed", status=302, headers={"Location": location})
        exc = _fail(public.url("/feed"), fetch=settings())
        assert exc.kind == "blocked_address"
        assert public.hits("/feed") == 1
        assert inner.connections == 0
    finally:
        public.stop()
        inner.stop()


def test_names_are_vetted_after_resolution(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/feed.xml", RSS, headers=FEED)
    resolver = names({"evil.test": ["10.0.0.7"], "mixed.test": ["127.0.0.1", "192.168.1.1"]})
    for name in ("evil.test", "mixed.test"):
        exc = _fail(
            f"http://{name}:{http_server.port}/feed.xml", fetch=settings(), resolver=resolver
        )
        assert exc.kind == "blocked_address"
    assert http_server.connections == 0
    exc = _fail(f"http://nowhere.test:{http_server.port}/", fetch=settings(), resolver=resolver)
    assert exc.kind == "dns"


def test_dns_rebinding_connects_to_the_checked_address(http_server: LoopbackHTTPServer) -> None:
    """The first answer is vetted and dialled; a later, different answer is never used."""
    http_server.route("/feed.xml", RSS, headers=FEED)
    answers: list[Sequence[str]] = [["127.0.0.1"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        # After the first lookup the name "moves" to an address the policy refuses.
        return answers[0] if len(calls) == 1 else ["127.0.0.2"]

    url = f"http://rebind.test:{http_server.port}/feed.xml"

    async def twice(f: Fetcher) -> tuple[int, int]:
        first = await f.fetch_feed(url)
        second = await f.fetch_feed(url)  # keep-alive: same vetted connection, no new lookup
        return first.status, second.status

    assert run(twice, settings(), resolver=rebinding) == (200, 200)
    assert http_server.connections == 1
    assert calls == ["rebind.test"]
    # A new client resolves again and refuses the new answer instead of following it.
    assert _fail(url, fetch=settings(), resolver=rebinding).kind == "blocked_address"
    assert http_server.connections == 1
    assert http_server.requests[0].headers["host"] == f"rebind.test:{http_server.port}"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[zz::1]/feed",
        "http:///nohost",
        # A port out of range raised OverflowError from connect() and ended the pass.
        "http://127.0.0.1:99999/feed",
        "http://127.0.0.1:0/feed",
        # A host in punycode that does not decode raised IDNAError and ended the pass.
        "http://xn--zz.example/feed",
    ],
)
def test_malformed_urls_are_typed_errors(url: str) -> None:
    for fetch in ("fetch_feed", "fetch_page"):
        with pytest.raises(PermanentFetchError) as info:
            run(lambda f, name=fetch: getattr(f, name)(url), settings())  # type: ignore[misc]
        assert info.value.kind in ("bad_url", "bad_scheme")


def test_redirect_to_a_port_out_of_range_is_a_typed_error(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/moved", status=302, headers={"Location": "http://127.0.0.1:70000/x"})
    error = _fail(http_server.url("/moved"), fetch=settings())
    assert error.kind == "bad_url" and "port" in str(error)
