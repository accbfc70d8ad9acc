"""Article pages: robots.txt and content types (RELIABILITY A15, C23)."""

from __future__ import annotations

import time

import pytest

from newsradar.errors import FetchError, PermanentFetchError, TransientFetchError
from tests.fetch.helpers import run, settings
from tests.loopback import LoopbackHTTPServer, Request, Response

PAGE = b"<!doctype html><html><body><p>Hello</p></body></html>"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _hang(_req: Request) -> Response:
    time.sleep(1.5)
    return Response(200, b"User-agent: *\nAllow: /\n")


@pytest.mark.parametrize(
    ("robots", "refused"),
    [
        (Response(404, b"nope"), None),
        (Response(410, b"gone"), None),
        # Unreadable: no pages this run, a temporary refusal (the page is tried again later).
        (Response(503, b"busy"), "robots_unavailable"),
        (Response(500, b"oops"), "robots_unavailable"),
        (None, "robots_unavailable"),  # hangs past the deadline
        (Response(200, b"User-agent: *\nDisallow: /private/\n"), None),
        (Response(200, b"User-agent: newsradar\nDisallow: /\n"), "robots"),
        # A UTF-8 byte-order mark (Windows editors write one) once hid the first group.
        (Response(200, b"\xef\xbb\xbfUser-agent: *\r\nDisallow: /news/\r\n"), "robots"),
        # RFC 9309: the longest match wins, whatever the order (not the first line that matches)...
        (Response(200, b"User-agent: *\nAllow: /\nDisallow: /news/\n"), "robots"),
        # ... and * and $ are patterns, not literal characters.
        (Response(200, b"User-agent: *\nDisallow: /*/1\nDisallow: /news/2$\n"), "robots"),
        (Response(200, b"User-agent: *\nDisallow: /news/1$x\nDisallow: /*.php\n"), None),
        (Response(200, b"User-agent: *\nAllow: /\n" + b"# padding\n" * 1_100_000), None),
        (Response(200, b"User-agent: *\nDisallow: /\n" + b"# pad\n" * 2_000_000), "robots"),
    ],
)
def test_robots_txt_decides_once_per_origin(
    http_server: LoopbackHTTPServer, robots: Response | None, refused: str | None
) -> None:
    http_server.route("/robots.txt", handler=_hang if robots is None else (lambda _r: robots))
    http_server.route("/news/1", PAGE, headers=HTML)
    http_server.route("/news/2", PAGE, headers=HTML)
    urls = [http_server.url("/news/1"), http_server.url("/news/2")]

    async def pages(f: object) -> list[object]:
        out: list[object] = []
        for url in urls:
            try:
                out.append(await f.fetch_page(url))  # type: ignore[attr-defined]
            except FetchError as exc:
                out.append(exc)
        return out

    results = run(pages, settings(deadline=0.5, timeout=1))  # type: ignore[arg-type]
    assert http_server.hits("/robots.txt") == 1
    if refused is None:
        assert [getattr(r, "body", None) for r in results] == [PAGE, PAGE]
    else:
        kind = TransientFetchError if refused == "robots_unavailable" else PermanentFetchError
        assert all(isinstance(r, kind) and r.kind == refused for r in results)
        assert http_server.hits("/news/1") == 0


def test_robots_can_be_switched_off(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/robots.txt", b"User-agent: *\nDisallow: /\n")
    http_server.route("/p", PAGE, headers=HTML)
    assert run(lambda f: f.fetch_page(http_server.url("/p")), settings(respect_robots=False)).body
    assert http_server.hits("/robots.txt") == 0


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("application/pdf", b"%PDF-1.4\n..."),
        ("application/zip", b"PK\x03\x04..."),
        ("application/octet-stream", b"\0\1\2\3"),
        ("image/jpeg", b"\xff\xd8\xff\xe0..."),
        ("text/html", b"%PDF-1.4\n mislabeled"),
    ],
)
def test_pages_that_are_not_html_are_unsupported(
    http_server: LoopbackHTTPServer, ctype: str, body: bytes
) -> None:
    http_server.route("/robots.txt", status=404)
    http_server.route("/doc", body, headers={"Content-Type": ctype})
    with pytest.raises(PermanentFetchError) as info:
        run(lambda f: f.fetch_page(http_server.url("/doc")), settings())
    assert info.value.kind == "unsupported_content_type"


def test_page_redirecting_to_a_private_address_is_blocked(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/robots.txt", status=404)
    http_server.route("/story", status=301, headers={"Location": "http://10.1.2.3/story"})
    with pytest.raises(PermanentFetchError) as info:
        run(lambda f: f.fetch_page(http_server.url("/story")), settings())
    assert info.value.kind == "blocked_address"
