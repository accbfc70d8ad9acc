"""The one hardened HTTP client: every feed, page and robots.txt goes through :class:`Fetcher`.

    async with Fetcher(cfg.fetch, host_blocks=blocks) as fetcher:
        result = await fetcher.fetch_feed(url, etag=state.etag, last_modified=state.last_modified)
        if result.not_modified: ...

Per request: SSRF guard on every hop (see :mod:`newsradar.fetch.guard`), redirects followed
here (at most ``max_redirects``), httpx's per-operation timeouts plus an overall deadline (a
slow drip never trips the former), a body cap on decoded bytes, sniffing so only feeds reach
the feed parser and only HTML reaches extraction. Across requests: global and per-host limits,
a minimum delay per host, ``Retry-After`` honoured host-wide, in-run retries with back-off.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import httpx

from newsradar import __version__
from newsradar.config import FetchSettings
from newsradar.errors import FetchError, PermanentFetchError, TransientFetchError
from newsradar.fetch.body import PAGE_TYPES, looks_like_feed, looks_like_page, read_body
from newsradar.fetch.guard import AddressPolicy, Resolver, check_scheme, literal_address
from newsradar.fetch.politeness import HostLimiter, backoff_delay, parse_retry_after
from newsradar.fetch.robots import ROBOTS_CAP, Rules, rules_from_body, rules_from_error
from newsradar.fetch.transport import (
    bot_wall,
    guarded_transport,
    header_bytes,
    headers_of,
    translate,
)
from newsradar.models import FetchResult

__all__ = ["Fetcher", "user_agent"]

Mode = Literal["feed", "page", "robots"]

_REDIRECTS = (301, 302, 303, 307, 308)
_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5, */*;q=0.1"
_NEVER_A_FEED = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
# Headers a feed's configuration may not set: they belong to the transport or to us.
_RESERVED = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding"}
# Prefix marking a feed's own headers (feeds.toml), sent only to the feed's own origin.
_OWN_ORIGIN = "\x00own:"
# Where a response's Location waits for _follow (see _take_location).
_LOCATION = "newsradar.location"


def user_agent(settings: FetchSettings) -> str:
    """``newsradar/0.1 (+https://contact)``: who we are and where to complain."""
    agent = settings.user_agent or f"newsradar/{__version__}"
    return f"{agent} (+{settings.contact_url})" if settings.contact_url else agent


async def _take_location(response: httpx.Response) -> None:
    """Hide ``Location`` from httpx: even with ``follow_redirects=False`` it builds the next
    request from it, and raises (``InvalidURL`` for ``javascript:``, ``RemoteProtocolError``
    for a broken URL) before we see the response. We follow redirects ourselves and judge
    the target like any other URL, so it waits in ``response.extensions``."""
    raw = [value for name, value in response.headers.raw if name.lower() == b"location"]
    if raw:
        del response.headers["location"]
        response.extensions = {**response.extensions, _LOCATION: raw[0]}


def _location_text(raw: bytes) -> str:
    """A raw ``Location`` as the URL the server meant. Servers often send it unescaped: UTF-8
    is read as UTF-8, as browsers do (a path is then escaped as UTF-8, a host made IDNA);
    other non-ASCII bytes are escaped as they are, never re-encoded."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in raw)


class Fetcher:
    """The hardened client; use as ``async with Fetcher(settings) as fetcher``.

    ``transport`` replaces the guarded network stack (tests only: the address guard then only
    sees literal IPs); ``resolver`` replaces DNS (tests map names to 127.0.0.1 with it);
    ``ssl_context`` replaces the certifi trust store (a company CA bundle; it must verify).
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        host_blocks: Mapping[str, datetime] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        rng: random.Random | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self._policy = AddressPolicy(settings)
        self._limiter = HostLimiter(
            settings.concurrency, settings.per_host, settings.min_host_delay, host_blocks
        )
        self._rng = rng or random.Random()
        self._robots: dict[str, Rules] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._client = httpx.AsyncClient(
            transport=transport or guarded_transport(settings, self._policy, resolver, ssl_context),
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent(settings), "Accept-Encoding": "gzip, deflate, br"},
            event_hooks={"response": [_take_location]},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def host_blocks(self) -> dict[str, datetime]:
        """Hosts that asked us to wait (Retry-After) and until when, for the store to persist."""
        return self._limiter.in_force()

    async def fetch_feed(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """GET a feed, conditionally. 304 -> ``FetchResult(status=304)``; failures raise
        :class:`TransientFetchError` / :class:`PermanentFetchError` with a ``kind``."""
        extra: dict[str, str | bytes] = {"Accept": _FEED_ACCEPT}
        for name, value in (headers or {}).items():
            if name.lower() not in _RESERVED:
                # Marked so a redirect to another origin drops it (it may hold an API key).
                extra[_OWN_ORIGIN + name] = value
        if etag:
            extra["If-None-Match"] = header_bytes(etag)
        if last_modified:
            extra["If-Modified-Since"] = header_bytes(last_modified)
        return await self._get(url, extra, self.settings.max_feed_bytes, "feed")

    async def fetch_page(self, url: str) -> FetchResult:
        """GET an article page (robots.txt honoured). Non-HTML answers (PDF, zip,
        octet-stream, images) raise ``PermanentFetchError(kind="unsupported_content_type")``."""
        # A malformed or non-http link is a typed error, before robots.txt.
        parsed = self._vet_url(url)
        if self.settings.respect_robots:
            rules = await self._rules_for(parsed)
            if rules.unavailable:
                raise TransientFetchError("robots_unavailable", url, rules.reason)
            if not rules.allows(url):
                raise PermanentFetchError(
                    "robots", url, "robots.txt disallows this page for newsradar"
                )
        return await self._get(
            url, {"Accept": _PAGE_ACCEPT}, self.settings.max_page_bytes, "page", vetted=parsed
        )

    async def _rules_for(self, url: httpx.URL) -> Rules:
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one robots.txt request per origin, however many pages wait
            if origin not in self._robots:
                try:
                    result = await self._get(
                        origin + "/robots.txt", {}, ROBOTS_CAP, "robots", retries=0
                    )
                    self._robots[origin] = rules_from_body(result.body)
                except FetchError as exc:
                    self._robots[origin] = rules_from_error(exc)
        return self._robots[origin]

    async def _get(
        self,
        url: str,
        headers: dict[str, str | bytes],
        cap: int,
        mode: Mode,
        *,
        retries: int | None = None,
        vetted: httpx.URL | None = None,
    ) -> FetchResult:
        """One logical fetch: redirects, then retries of transient failures with back-off.
        ``vetted``: ``url`` as :meth:`_vet_url` already returned it."""
        retries = self.settings.retries if retries is None else retries
        attempt = 0
        while True:
            try:
                return await self._follow(url, headers, cap, mode, vetted)
            except TransientFetchError as exc:
                if attempt >= retries:
                    raise
                delay = backoff_delay(
                    attempt, self.settings.backoff_base, self.settings.backoff_cap, self._rng
                )
                if exc.retry_after is not None:
                    if exc.retry_after > self.settings.backoff_cap:
                        raise  # not worth holding a worker: the next run will try
                    delay = max(delay, exc.retry_after)
                await asyncio.sleep(delay)
                attempt += 1

    async def _follow(
        self,
        url: str,
        headers: dict[str, str | bytes],
        cap: int,
        mode: Mode,
        vetted: httpx.URL | None = None,
    ) -> FetchResult:
        started = time.monotonic()
        current = url
        origin: tuple[str, bytes] | None = None
        permanent: list[tuple[str, str]] = []
        for hop in range(self.settings.max_redirects + 1):
            # Parsed and vetted once per hop; the request and the redirect join reuse it.
            parsed = vetted if hop == 0 and vetted is not None else self._vet_url(current)
            origin = origin or (parsed.scheme, parsed.netloc)
            # The feed's own headers (maybe an API key) stay with its host and port, and are
            # never sent in clear text after the feed was asked for over https.
            downgraded = origin[0] == "https" and parsed.scheme == "http"
            same_origin = parsed.netloc == origin[1] and not downgraded
            sent = {
                k.removeprefix(_OWN_ORIGIN): v
                for k, v in headers.items()
                if same_origin or not k.startswith(_OWN_ORIGIN)
            }
            status, got, body = await self._exchange(current, parsed, sent, cap, mode)
            if status in _REDIRECTS:
                location = got.get("location", "").strip()
                try:
                    target = str(parsed.join(location))
                except httpx.InvalidURL as exc:
                    raise PermanentFetchError(
                        "bad_url", url, f"{status} to {location!r}, not a valid URL ({exc})"
                    ) from None
                if status in (301, 308):
                    permanent.append((current, target))
                current = target
                continue
            return FetchResult(
                url=url,
                final_url=current,
                status=status,
                headers=got,
                body=body,
                permanent_redirects=tuple(permanent),
                elapsed=time.monotonic() - started,
            )
        raise PermanentFetchError(
            "too_many_redirects",
            url,
            f"more than {self.settings.max_redirects} redirects (last to {current}); "
            "put the final URL in feeds.toml",
        )

    def _vet_url(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
            host = parsed.host  # decodes an xn-- host; a broken one raises IDNAError
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise PermanentFetchError("bad_url", url, f"not a valid URL ({exc})") from None
        check_scheme(url, parsed.scheme)
        if not host:
            raise PermanentFetchError("bad_url", url, "the URL has no host")
        # httpx accepts any number; connect() raises OverflowError past 65535.
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise PermanentFetchError("bad_url", url, f"port {parsed.port} is out of range")
        literal = literal_address(host)
        if literal is None:
            if ":" in host or host.replace(".", "").isdigit():
                # aiohttp dials a host like this itself, without asking the resolver.
                raise PermanentFetchError("bad_url", url, f"{host} is not an IP address")
            return parsed  # a name: vetted after resolution, by the connector's resolver
        self._policy.check(url, host, [str(literal)])
        return parsed

    async def _exchange(
        self,
        url: str,
        parsed: httpx.URL,
        headers: dict[str, str | bytes],
        cap: int,
        mode: Mode,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request/response (``parsed`` is ``url`` already vetted) within the host's
        slot and the overall deadline."""
        host = parsed.host
        wait = self._limiter.blocked_for(host)
        if wait > 0:
            raise TransientFetchError(
                "rate_limited", url, f"{host} asked us to wait {wait:.0f} s more", retry_after=wait
            )
        async with self._limiter.slot(host):
            try:
                async with asyncio.timeout(self.settings.deadline):
                    raw = [
                        (k.encode("latin-1"), header_bytes(v) if isinstance(v, str) else v)
                        for k, v in headers.items()
                    ]
                    request = self._client.build_request("GET", parsed, headers=raw)
                    response = await self._client.send(request, stream=True)
                    try:
                        got = headers_of(response)
                        location = response.extensions.get(_LOCATION)
                        if location is not None:
                            got["location"] = _location_text(location)
                        status = response.status_code
                        self._check_status(url, host, status, got)
                        if status in _REDIRECTS or status == 304:
                            return status, got, b""
                        return status, got, await self._read(response, url, got, cap, mode)
                    finally:
                        await response.aclose()
            except TimeoutError:
                raise TransientFetchError(
                    "deadline_exceeded",
                    url,
                    f"not complete after the {self.settings.deadline:g} s deadline",
                ) from None
            except (httpx.HTTPError, ssl.SSLError) as exc:
                raise translate(exc, url) from exc

    def _check_status(self, url: str, host: str, status: int, headers: dict[str, str]) -> None:
        if status in _REDIRECTS:
            if not headers.get("location", "").strip():
                raise PermanentFetchError(
                    "http_3xx", url, f"{status} without a Location", status=status
                )
            return
        if status == 304 or 200 <= status < 300:
            return
        if status < 400:
            raise PermanentFetchError("http_3xx", url, f"answered {status}", status=status)
        retry_after = parse_retry_after(headers.get("retry-after"))
        wall = bot_wall(headers)
        said = f"answered {status}" + (f" from a bot wall ({wall})" if wall else "")
        if status == 429 or (status == 503 and retry_after is not None):
            # Host-wide: every feed on this host waits, in this run and (persisted) the next.
            wait = self.settings.backoff_cap if retry_after is None else retry_after
            self._limiter.block(host, wait)
            raise TransientFetchError(
                "rate_limited" if status == 429 else "http_5xx",
                url,
                f"{said}; waiting {wait:.0f} s before asking {host} again",
                status=status,
                retry_after=wait,
            )
        if status >= 500:
            raise TransientFetchError("http_5xx", url, said, status=status)
        if status in (408, 425):
            raise TransientFetchError("timeout", url, said, status=status)
        raise PermanentFetchError("http_4xx", url, said, status=status)

    async def _read(
        self, response: httpx.Response, url: str, headers: dict[str, str], cap: int, mode: Mode
    ) -> bytes:
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if mode == "feed" and ctype.startswith(_NEVER_A_FEED):
            raise PermanentFetchError("not_a_feed", url, f"the server sent {ctype}, not a feed")
        if mode == "page" and not (ctype in PAGE_TYPES or ctype.startswith("text/")):
            raise PermanentFetchError(
                "unsupported_content_type", url, f"{ctype} is not an HTML page"
            )
        body = await read_body(response, url, cap, truncate=mode == "robots")
        if mode == "feed" and not looks_like_feed(body):
            kind = "HTML" if b"<html" in body[:4096].lower() else "no RSS, Atom or JSON Feed"
            raise PermanentFetchError(
                "not_a_feed", url, f"the body is {kind}; point feeds.toml at the feed itself"
            )
        if mode == "page" and not looks_like_page(ctype, body):
            raise PermanentFetchError(
                "unsupported_content_type", url, "the body is binary, not an HTML page"
            )
        return body
