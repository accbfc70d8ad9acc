"""Benchmark the fetch stage against a loopback server in its own process.

1. Poll N feeds that all answer 304 (conditional GET): wall time, target under 5 s for 1,000.
2. Poll N feeds with new content (a ~20 KB RSS body each): feeds/s for newsradar's Fetcher
   (guard, politeness, caps, sniffing) next to a bare ``httpx.AsyncClient`` loop over the
   same feeds with the same concurrency. The ratio says how much newsradar costs; near 1
   means the server, not newsradar, is the limit.

Each feed is on its own host name (``feed-N.bench.test``, resolved to 127.0.0.1 by an
injected resolver), as in real life where feeds are spread over many sites: every feed is one
new TCP connection. The bare loop gets the same: no keep-alive.

    python -m bench.fetching [--quick]
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

from bench._row import row
from newsradar.config import FetchSettings
from newsradar.fetch import Fetcher

CONCURRENCY = 16
ETAG = '"v1"'


def _feed_body(size: int = 20_000) -> bytes:
    item = (
        "<item><guid>https://example.org/{n}</guid><title>Story {n} about NATO and Seoul</title>"
        "<link>https://example.org/{n}</link><description>Summary of story {n}.</description>"
        "<pubDate>Sat, 28 Nov 2026 10:00:00 GMT</pubDate></item>"
    )
    items, n = [], 0
    while sum(map(len, items)) < size:
        items.append(item.format(n=n))
        n += 1
    doc = f'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>{"".join(items)}'
    return (doc + "</channel></rss>").encode()


def _serve(ports: Any) -> None:
    """An HTTP/1.1 server: 304 to conditional requests, else a 20 KB feed (keep-alive)."""
    body = _feed_body()
    full = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: "
        + ETAG.encode()
        + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    not_modified = b"HTTP/1.1 304 Not Modified\r\nETag: " + ETAG.encode() + b"\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(not_modified if b"if-none-match:" in head.lower() else full)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        ports.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def _resolve(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"]


async def _newsradar(port: int, n: int, conditional: bool) -> float:
    settings = FetchSettings(
        allow_networks=("127.0.0.1/32",), concurrency=CONCURRENCY, retries=0, timeout=30,
        deadline=60,
    )  # fmt: skip
    urls = [f"http://feed-{i}.bench.test:{port}/feed.xml" for i in range(n)]
    etag = ETAG if conditional else None
    started = time.perf_counter()
    async with Fetcher(settings, resolver=_resolve) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch_feed(u, etag=etag) for u in urls))
    elapsed = time.perf_counter() - started
    assert all(r.status == (304 if conditional else 200) for r in results)
    return elapsed


async def _bare(port: int, n: int, conditional: bool) -> float:
    urls = [f"http://127.0.0.1:{port}/feed-{i}/feed.xml" for i in range(n)]
    headers = {"If-None-Match": ETAG} if conditional else {}
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=0)

    async def one(client: httpx.AsyncClient, url: str) -> int:
        async with gate:
            response = await client.get(url, headers=headers)
            return response.status_code

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        statuses = await asyncio.gather(*(one(client, u) for u in urls))
    elapsed = time.perf_counter() - started
    assert all(s == (304 if conditional else 200) for s in statuses)
    return elapsed


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows for bench/report.md: 304 polling wall time, and new-content feeds/s vs bare httpx."""
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        n_304, n_new, rounds = 1000, (300 if quick else 1000), (1 if quick else 5)
        ours_304, bare_304, ours_new, bare_new = [], [], [], []
        asyncio.run(_newsradar(port, 50, True))  # warm-up: imports, first connections
        for _ in range(rounds):  # interleaved, so load from other processes hits both sides
            ours_304.append(asyncio.run(_newsradar(port, n_304, True)))
            bare_304.append(asyncio.run(_bare(port, n_304, True)))
            ours_new.append(asyncio.run(_newsradar(port, n_new, False)))
            bare_new.append(asyncio.run(_bare(port, n_new, False)))
    finally:
        server.kill()
        server.join()
    t_ours, t_bare = statistics.median(ours_304), statistics.median(bare_304)
    fps_ours = n_new / statistics.median(ours_new)
    fps_bare = n_new / statistics.median(bare_new)
    load = os.getloadavg()[0]
    common = (
        f"loopback server in its own process; concurrency {CONCURRENCY}; median of {rounds}; "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    base = "bare httpx AsyncClient loop, no keep-alive"
    return [
        row(
            "fetch",
            f"poll {n_304} feeds all answering 304, wall s (lower is better)",
            t_ours,
            base,
            t_bare,
            unit="s",
            target="< 5 s",
            met=t_ours < 5.0,
            notes=f"{common}; one host name per feed (a new connection each)",
        ),
        row(
            "fetch",
            f"{n_new} feeds with new content (~20 KB), feeds/s (higher is better)",
            fps_ours,
            base,
            fps_bare,
            unit="feeds/s",
            target=">= 0.7x bare httpx (server-bound)",
            met=fps_ours / fps_bare >= 0.7,
            notes=f"{common}; newsradar adds SSRF guard, politeness, caps and sniffing",
        ),
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(
            f"{row['measure']}: newsradar {row['newsradar']} {row['unit']}, "
            f"{row['baseline_name']} {row['baseline']} (ratio {row['ratio']}; "
            f"target {row['target']}: {'met' if row['met'] else 'NOT met'})"
        )
