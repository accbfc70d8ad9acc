"""Whole passes against a server that misbehaves on purpose, one route per behaviour:
each bad feed ends with its typed error recorded in ``feeds``, the good feed is unaffected."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from socket import socket

import duckdb
import pytest

from newsradar import pipeline, polling
from newsradar.config import Config, load_config
from newsradar.fetch import Fetcher
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer, RawTCPServer, Request, Response

WATCHLIST = '[[watch]]\nid = "nato"\nterms = ["NATO"]\n'
SETTINGS = """
[storage]
database = "data/n.duckdb"
lock_timeout = 5
[alerts]
outbox_dir = "data/outbox"
recipients = ["analyst@example.org"]
[fetch]
allow_networks = ["127.0.0.1/32"]
timeout = 1
deadline = 1.5
retries = 1
backoff_base = 0.01
backoff_cap = 0.05
min_host_delay = 0
max_feed_bytes = 1000000
min_poll_interval = {min_poll}
"""
RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    b"<item><guid>w-1</guid><title>NATO meets</title><description>NATO text</description>"
    b"</item></channel></rss>"
)
FEED = {"Content-Type": "application/rss+xml"}


def _config(tmp_path: Path, feeds: dict[str, str], min_poll: int = 300) -> Config:
    toml = "".join(f'[[feed]]\nname = "{n}"\nurl = "{u}"\n\n' for n, u in feeds.items())
    settings = SETTINGS.format(min_poll=min_poll)
    return load_config(write_config(tmp_path, feeds=toml, watchlist=WATCHLIST, settings=settings))


def _pass(config: Config) -> pipeline.RunSummary:
    ctx = pipeline.begin_pass(config)
    polled = pipeline.poll_feeds(config, ctx)
    stored = pipeline.store_entries(config, ctx, polled)
    return pipeline.finish_pass(config, ctx, polled, stored, None)


def _rows(config: Config, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(config.storage.database), read_only=True) as con:
        return con.execute(sql).fetchall()


def _drip(conn: socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n")
    conn.sendall(b"Content-Length: 100000\r\n\r\n<rss>")
    for _ in range(40):
        time.sleep(0.1)
        conn.sendall(b" ")


def _bomb() -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(co.compress(b"\0" * (1 << 20)) for _ in range(16)) + co.flush()


def _endless() -> Iterator[bytes]:
    for _ in range(2000):
        yield b"8000\r\n" + b"x" * 0x8000 + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_pass_over_hostile_feeds_records_each_error_and_keeps_the_good_feed(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    s = http_server
    s.route("/ok.xml", RSS, headers=FEED)
    s.route("/gone.xml", b"gone", status=404)
    s.route("/busy.xml", b"busy", status=503)
    s.route("/page.html", b"<!doctype html><html><body>hi</body></html>",
            headers={"Content-Type": "text/html"})  # fmt: skip
    s.route("/huge.xml", handler=lambda _r: Response(200, _endless, {**FEED,
            "Transfer-Encoding": "chunked"}))  # fmt: skip
    s.route("/bomb.xml", _bomb(), headers={**FEED, "Content-Encoding": "gzip"})
    s.route("/meta.xml", status=302, headers={"Location": "http://169.254.169.254/latest/"})
    s.route("/loop.xml", status=301, headers={"Location": "/loop.xml"})
    s.route("/pdf.xml", b"%PDF-1.7 ...", headers={"Content-Type": "application/pdf"})
    drip = RawTCPServer(_drip).start()
    expected = {
        "ok": None, "gone": "http_4xx", "busy": "http_5xx", "page": "not_a_feed",
        "huge": "too_large", "bomb": "too_large", "meta": "blocked_address",
        "loop": "too_many_redirects", "pdf": "not_a_feed", "drip": "deadline_exceeded",
        "private": "blocked_address",
    }  # fmt: skip
    urls = {n: s.url(f"/{n}.xml") for n in expected}
    urls["page"] = s.url("/page.html")
    urls["drip"] = drip.url("/feed.xml")
    urls["private"] = "http://10.0.0.1/feed.xml"
    config = _config(tmp_path, urls)
    try:
        summary = _pass(config)
    finally:
        drip.stop()
    assert summary.feeds_ok == ("ok",)
    sql = "SELECT id, error_class, consecutive_failures, next_poll_at > now(), http_status"
    rows = {r[0]: r[1:] for r in _rows(config, sql + " FROM feeds")}
    assert {k: v[0] for k, v in rows.items()} == expected
    assert all(v[1] == (0 if k == "ok" else 1) and v[2] for k, v in rows.items())
    assert rows["gone"][3] == 404 and rows["busy"][3] == 503
    assert _rows(config, "SELECT guid, title FROM articles") == [("w-1", "NATO meets")]
    assert s.hits("/busy.xml") == 2  # one in-pass retry, then left for a later pass


def test_conditional_get_then_identical_body_stores_nothing_twice(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    etag, modified = 'W/"abc"', "Sat, 28 Nov 2026 10:00:00 GMT"
    answers = iter(["200", "304", "200"])

    def handler(req: Request) -> Response:
        if next(answers) == "304":
            assert req.headers.get("if-none-match") == etag
            assert req.headers.get("if-modified-since") == modified
            return Response(304, b"", {"ETag": etag})
        return Response(200, RSS, {**FEED, "ETag": etag, "Last-Modified": modified})

    http_server.route("/feed.xml", handler=handler)
    config = _config(tmp_path, {"wire": http_server.url("/feed.xml")}, min_poll=0)
    outcomes = []
    for _ in range(3):
        ctx = pipeline.begin_pass(config)
        polled = pipeline.poll_feeds(config, ctx)
        outcomes.append([p.outcome for p in polled.polls])
        stored = pipeline.store_entries(config, ctx, polled)
        pipeline.finish_pass(config, ctx, polled, stored, None)
    assert outcomes == [["ok"], ["not_modified"], ["unchanged"]]
    assert _rows(config, "SELECT count(*) FROM articles") == [(1,)]
    assert _rows(config, "SELECT etag, last_modified, consecutive_failures FROM feeds") == [
        (etag, modified, 0)
    ]


@pytest.mark.parametrize(("status", "moves"), [(301, True), (307, False)])
def test_stored_url_follows_permanent_redirects_seen_twice(
    tmp_path: Path, http_server: LoopbackHTTPServer, status: int, moves: bool
) -> None:
    http_server.route("/old.xml", status=status, headers={"Location": "/new.xml"})
    http_server.route("/new.xml", RSS, headers=FEED)
    old, new = http_server.url("/old.xml"), http_server.url("/new.xml")
    config = _config(tmp_path, {"wire": old}, min_poll=0)
    seen = []
    for _ in range(3):
        _pass(config)
        seen.append(_rows(config, "SELECT url, redirect_candidate FROM feeds")[0])
    if moves:
        assert seen == [(old, new), (new, None), (new, None)]
        assert http_server.hits("/old.xml") == 2
    else:
        assert seen == [(old, None)] * 3
        assert http_server.hits("/old.xml") == 3


def test_a_failing_feed_is_backed_off_not_disabled(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    http_server.route("/gone.xml", b"gone", status=410)
    # A 60 s interval: the first back-off outlasts the gap between two passes on a busy machine.
    config = _config(tmp_path, {"gone": http_server.url("/gone.xml")}, min_poll=60)
    _pass(config)
    summary = _pass(config)  # straight away: the feed waits out its back-off
    assert summary.feeds_skipped == 1 and http_server.hits("/gone.xml") == 1
    sql = "SELECT consecutive_failures, next_poll_at > now(), error_class FROM feeds"
    assert _rows(config, sql) == [(1, True, "http_4xx")]


def test_retry_after_blocks_the_host_in_the_next_pass_too(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    http_server.route("/limited.xml", status=429, headers={"Retry-After": "3600"})
    http_server.route("/ok.xml", RSS, headers=FEED)
    feeds = {"limited": http_server.url("/limited.xml"), "ok": http_server.url("/ok.xml")}
    config = _config(tmp_path, feeds, min_poll=0)
    _pass(config)
    ((host, ahead),) = _rows(
        config, "SELECT host, blocked_until > now() + INTERVAL 50 MINUTE FROM hosts"
    )
    assert (host, ahead) == ("127.0.0.1", True)
    ok_hits = http_server.hits("/ok.xml")
    summary = _pass(config)  # "ok" is due again, but its host asked for an hour's pause
    assert http_server.hits("/ok.xml") == ok_hits and http_server.hits("/limited.xml") == 1
    assert ("ok", "rate_limited") in [(f, k) for f, k, _ in summary.feeds_failed]


def test_a_bug_on_one_feed_is_recorded_and_the_pass_goes_on(
    tmp_path: Path, http_server: LoopbackHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two real inputs once crashed a whole pass (an unclosed IPv6 bracket in a link, a port
    # past 65535): whatever the next one is, it costs one feed or one page, not the pass.
    http_server.route("/good.xml", RSS, headers=FEED)
    http_server.route("/bad.xml", RSS.replace(b"w-1", b"b-1"), headers=FEED)
    config = _config(tmp_path, {"good": http_server.url("/good.xml"),
                                "bad": http_server.url("/bad.xml")})  # fmt: skip
    real_parse = polling.parse_feed

    def parse(feed_id: str, body: bytes, **kw: object) -> object:
        if feed_id == "bad":
            raise ValueError("something nobody expected")
        return real_parse(feed_id, body, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(polling, "parse_feed", parse)
    summary = _pass(config)
    assert summary.feeds_ok == ("good",) and summary.articles_stored == 1
    [(error_class, message)] = _rows(
        config, "SELECT error_class, error_message FROM feeds WHERE id = 'bad'"
    )
    assert error_class == "internal_error"
    assert "ValueError: something nobody expected" in str(message)
    assert "NEWSRADAR_DEBUG" in str(message)


def test_a_bug_on_one_page_is_recorded_and_the_pass_goes_on(
    tmp_path: Path, http_server: LoopbackHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = "".join(
        f"<item><guid>{n}</guid><title>NATO {n}</title><link>{http_server.url(f'/{n}')}</link>"
        "<description>NATO text</description></item>"
        for n in ("a", "b")
    )
    feed = f'<rss version="2.0"><channel><title>W</title>{items}</channel></rss>'
    http_server.route("/feed.xml", feed, headers=FEED)
    for n in ("a", "b"):
        page = f"<html><body><article><p>{'NATO met today. ' * 40}{n}</p></article></body></html>"
        http_server.route(f"/{n}", page, headers={"Content-Type": "text/html"})
    config = _config(tmp_path, {"wire": http_server.url("/feed.xml")})
    real_fetch = Fetcher.fetch_page

    async def fetch_page(self: Fetcher, url: str) -> object:
        if url.endswith("/b"):
            raise OverflowError("connect(): port must be 0-65535.")
        return await real_fetch(self, url)

    monkeypatch.setattr(Fetcher, "fetch_page", fetch_page)
    assert _pass(config).articles_stored == 2
    rows = _rows(config, "SELECT guid, status, text_source FROM articles ORDER BY guid")
    assert rows == [("a", "ok", "page"), ("b", "internal_error", "feed")]
