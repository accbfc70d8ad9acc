"""The only module that talks HTTP: one bounded httpx client for feeds and pages."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from newsradar.config import FetchSettings
from newsradar.errors import PermanentFetchError, TransientFetchError
from newsradar.models import FetchResult

__all__ = ["Fetcher"]

_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


class Fetcher:
    """Fetch feeds and pages with timeouts, a size cap and a private-address guard."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        host_blocks: Mapping[str, datetime] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._host_blocks = dict(host_blocks or {})
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            headers={"User-Agent": f"{settings.user_agent} (+{settings.contact_url})"},
            transport=transport,
        )
        self._global = asyncio.Semaphore(settings.concurrency)
        self._allowed = [ipaddress.ip_network(c, strict=False) for c in settings.allow_networks]

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    @property
    def host_blocks(self) -> dict[str, datetime]:
        return dict(self._host_blocks)

    def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise PermanentFetchError("bad_scheme", url, "only http and https are fetched")
        host = parts.hostname or ""
        try:
            infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise TransientFetchError("dns", url, f"cannot resolve {host!r}") from exc
        for info in infos:
            addr = ipaddress.ip_address(info[4][0])
            if self.settings.allow_private_networks or addr.is_global:
                continue
            if not any(addr in net for net in self._allowed):
                raise PermanentFetchError(
                    "blocked_address", url, f"{addr} is not a public address; see [fetch]"
                )

    async def _get(self, url: str, headers: Mapping[str, str], cap: int) -> FetchResult:
        self._check_address(url)
        started = time.monotonic()
        async with self._global:
            try:
                async with asyncio.timeout(self.settings.deadline):
                    async with self._client.stream("GET", url, headers=dict(headers)) as resp:
                        body = bytearray()
                        async for chunk in resp.aiter_bytes():
                            body += chunk
                            if len(body) > cap:
                                raise PermanentFetchError("too_large", url, f"over {cap} bytes")
            except TimeoutError as exc:
                raise TransientFetchError("deadline_exceeded", url, "overall deadline") from exc
            except httpx.TimeoutException as exc:
                raise TransientFetchError("timeout", url, str(exc) or "timed out") from exc
            except httpx.TooManyRedirects as exc:
                raise PermanentFetchError("too_many_redirects", url, str(exc)) from exc
            except httpx.TransportError as exc:
                raise TransientFetchError("connect", url, str(exc) or type(exc).__name__) from exc
        status = resp.status_code
        if status == 429 or status >= 500:
            raise TransientFetchError(
                "http_5xx" if status >= 500 else "http_4xx", url, f"HTTP {status}", status=status
            )
        if status >= 400:
            raise PermanentFetchError("http_4xx", url, f"HTTP {status}", status=status)
        return FetchResult(
            url=url,
            final_url=str(resp.url),
            status=status,
            headers={k.lower(): v for k, v in resp.headers.items()},
            body=bytes(body),
            elapsed=time.monotonic() - started,
        )

    async def fetch_feed(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        return await self._get(url, request_headers, self.settings.max_feed_bytes)

    async def fetch_page(self, url: str) -> FetchResult:
        result = await self._get(url, {}, self.settings.max_page_bytes)
        if result.content_type not in _PAGE_TYPES:
            raise PermanentFetchError(
                "unsupported_content_type", url, f"{result.content_type} is not a web page"
            )
        return result
