"""A synthetic news site for the pipeline benchmark: AEB pages under thousands of distinct URLs.

Page ``i`` is AEB page ``i % 181`` in copy ``i // 181``. Copy 0 is served byte for byte as the
corpus has it (so its stored text can be scored against the AEB truth); every later copy gets
one unique sentence inside the page's longest paragraph, so each URL carries distinct body text
(near-duplicate clustering may still fold copies into one story; storage keeps every article).
Feeds list the pages round-robin. The server logs every request with its wall-clock time and
answers ``If-None-Match`` with 304, as a real site would on a re-poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

from bench._aeb import load_pages, load_truth

__all__ = ["Site", "SiteServer", "page_path", "parse_page_path"]

_PARAGRAPH = re.compile(rb"<p\b[^>]*>(.*?)</p>", re.I | re.S)
_TAG = re.compile(rb"<[^>]+>")
_PATH = re.compile(r"/news/\d+/(\d+)/([0-9a-f]+)\.html$")
# Between two words of the truth, a page may have spaces, punctuation, entities or inline tags.
_HIDDEN = ((b"<!--", b"-->"), (b"<script", b"</script"), (b"<style", b"</style"))
_HIDDEN += ((b"<noscript", b"</noscript"), (b"<title", b"</title"), (b"<textarea", b"</textarea"))
_GAP = rb"(?:[^\w<&]|&#?\w+;|<[^>]*>)+"


def _in_text(html: bytes, at: int) -> bool:
    """Whether offset ``at`` is in visible character data (not a tag, comment or script)."""
    if html.rfind(b"<", 0, at) > html.rfind(b">", 0, at):
        return False
    for opening, closing in _HIDDEN:
        if html.rfind(opening, 0, at) > html.rfind(closing, 0, at):
            return False
    return True


def _insertion_point(html: bytes, truth: str) -> int:
    """Offset at the end of a text node of the article body, found by the AEB's truth text.

    Falls back to the paragraph with the most text, then to ``</body>``.
    """
    lower = html.lower()
    lines = sorted((line for line in truth.splitlines() if line.strip()), key=len, reverse=True)
    for line in lines[:5]:
        words = re.findall(r"\w+", line)
        for start in (len(words) // 2, 0):
            chunk = words[start : start + 6]
            if len(chunk) < 4:
                continue
            pattern = re.compile(_GAP.join(re.escape(w.encode()) for w in chunk))
            for m in pattern.finditer(html):
                if _in_text(lower, m.start()):
                    end = html.find(b"<", m.end())
                    return end if end >= 0 else m.end()
    best, at = -1, -1
    for m in _PARAGRAPH.finditer(html):
        size = len(_TAG.sub(b"", m.group(1)))
        if size > best:
            best, at = size, m.end(1)
    if at < 0:
        found = html.lower().rfind(b"</body>")
        at = found if found >= 0 else len(html)
    return at


def page_path(feed: int, copy: int, aeb_id: str) -> str:
    return f"/news/{feed:02d}/{copy:02d}/{aeb_id}.html"


def parse_page_path(url: str) -> tuple[str, int] | None:
    """(AEB id, copy) of a page URL, or None for anything else."""
    m = _PATH.search(url.split("?", 1)[0])
    return (m.group(2), int(m.group(1))) if m else None


@dataclass
class Site:
    """``pages`` distinct article URLs over the AEB pages, listed in ``feeds`` RSS feeds."""

    root: Path
    pages: int
    feeds: int
    ids: list[str] = field(init=False)
    html: list[bytes] = field(init=False)
    _insert_at: list[int] = field(init=False)

    def __post_init__(self) -> None:
        loaded = list(load_pages(self.root))
        self.ids = [key for key, _ in loaded]
        self.html = [body for _, body in loaded]
        truth = load_truth(self.root)
        self._insert_at = [
            _insertion_point(body, truth[key])
            for key, body in zip(self.ids, self.html, strict=True)
        ]

    def locate(self, i: int) -> tuple[int, int]:
        """(AEB index, copy number) of page ``i``."""
        return i % len(self.ids), i // len(self.ids)

    def body(self, i: int) -> bytes:
        index, copy = self.locate(i)
        html = self.html[index]
        if copy == 0:
            return html
        marker = hashlib.sha1(f"{i}".encode()).hexdigest()[:12]
        sentence = f" Bench copy {copy} of this report carries the serial number {marker}."
        at = self._insert_at[index]
        return html[:at] + sentence.encode() + html[at:]

    def path(self, i: int) -> str:
        index, copy = self.locate(i)
        return page_path(i % self.feeds, copy, self.ids[index])

    def feed_xml(self, feed: int, base: str, now: float) -> bytes:
        items = []
        for i in range(feed, self.pages, self.feeds):
            index, copy = self.locate(i)
            published = format_datetime(datetime.fromtimestamp(now - 60 * i, UTC))
            items.append(
                f"<item><title>Bench article {i}: page {self.ids[index][:8]} copy {copy}</title>"
                f"<link>{escape(base + self.path(i))}</link>"
                f'<guid isPermaLink="false">bench-{i}</guid><pubDate>{published}</pubDate>'
                f"<description>Summary of bench article {i}.</description></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Bench feed {feed}</title><link>{escape(base)}/</link>"
            f"<description>AEB pages for the pipeline benchmark</description>{''.join(items)}"
            "</channel></rss>"
        ).encode()


class SiteServer:
    """Serve a :class:`Site` on 127.0.0.1 and log ``(time.time(), path, status)`` per request.

    The server stands in for remote news sites, yet shares the machine's cores with the run it
    measures, so it is kept cheap: aiohttp's low-level server (its C HTTP parser, no routing)
    on an event loop in one thread, and every body prepared before the first request.
    """

    def __init__(self, site: Site) -> None:
        self.site = site
        self.log: list[tuple[float, str, int]] = []
        self.pages_served = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.ServerRunner | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._routes = {site.path(i): i for i in range(site.pages)}
        now = time.time()
        self._feeds = {
            f"/feeds/{k:02d}.xml": site.feed_xml(k, self.base, now) for k in range(site.feeds)
        }
        self._etags = {
            path: '"' + hashlib.sha1(body).hexdigest() + '"' for path, body in self._feeds.items()
        }
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def feed_urls(self) -> list[str]:
        return [self.base + path for path in self._feeds]

    def _respond(self, path: str, if_none_match: str | None) -> tuple[int, bytes, dict[str, str]]:
        path = path.split("?", 1)[0]
        if path in self._feeds:
            etag = self._etags[path]
            if if_none_match == etag:
                return 304, b"", {"ETag": etag}
            headers = {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag}
            return 200, self._feeds[path], headers
        if path in self._routes:
            return (
                200,
                self.site.body(self._routes[path]),
                {"Content-Type": "text/html; charset=utf-8"},
            )
        if path == "/robots.txt":
            return 200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}
        return 404, b"not found", {"Content-Type": "text/plain"}

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        at = time.time()
        path = request.path_qs
        status, body, headers = self._respond(path, request.headers.get("If-None-Match"))
        with self._lock:
            self.log.append((at, path, status))
            if status == 200 and path.startswith("/news/"):
                self.pages_served += 1
        if status == 304:
            return web.Response(status=304, headers=headers)
        return web.Response(status=status, body=body, headers=headers)

    def requests_since(self, mark: int) -> list[tuple[float, str, int]]:
        with self._lock:
            return self.log[mark:]

    async def _start(self) -> None:
        self._runner = web.ServerRunner(web.Server(self._handle, access_log=None))
        await self._runner.setup()
        # A backlog well above the fetcher's connection pool: a dropped SYN costs a 1 s
        # retransmit and would be measured as pipeline time.
        await web.SockSite(self._runner, self._socket, backlog=512).start()

    def __enter__(self) -> SiteServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()
