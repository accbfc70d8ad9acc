"""An httpx transport over aiohttp: httpx's request and response models, aiohttp's C parser.

httpx's own stack (httpcore and the pure-Python h11 parser) spends about 1 ms of CPU on each
170 KB page over loopback, more than everything else a pass does around extraction; aiohttp
exchanges the same page for about a quarter of that. Everything above the transport
(redirects, caps, decoding, typed errors) still sees httpx objects and httpx exceptions:
aiohttp's are translated here, at the one place they enter.

The SSRF guard is the connector's resolver (:class:`~newsradar.fetch.guard.GuardedResolver`):
aiohttp dials only the addresses it returns. aiohttp never resolves literal IP hosts, which
the client vets before each hop.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpTransport", "BoundedConnector"]

# Header limits above aiohttp's defaults (8,190 bytes a line, 128 headers): real sites send
# Content-Security-Policy and Set-Cookie lines of tens of KB. Their product bounds what a
# hostile server can make us buffer before the body (16 MB).
_MAX_LINE = 64 * 1024
_MAX_HEADERS = 256
# Bytes aiohttp buffers per response before it stops reading the socket.
_READ_BUFSIZE = 256 * 1024
# What may go out in a header: a name that is an RFC 9110 token, a value without control
# characters (tab aside). aiohttp raises a bare ValueError on line breaks and sends the rest.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _translated(exc: Exception) -> Exception:
    """The httpx exception :func:`newsradar.fetch.transport.translate` expects for ``exc``."""
    # Messages are built here: aiohttp's connector errors say "ssl:default" even for plain
    # http, which would read as a TLS failure.
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(f"connecting timed out ({exc})")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(f"reading timed out ({exc})")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return httpx.ConnectError(f"TLS certificate not accepted: {exc.certificate_error}")
    if isinstance(exc, aiohttp.ClientSSLError):
        return httpx.ConnectError(f"TLS handshake failed: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc.os_error) or "refused")
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.LocalProtocolError(f"not a valid URL ({exc})")
    if isinstance(exc, ssl.SSLError):
        return httpx.ConnectError(f"TLS error: {exc}")
    return httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}")


class BoundedConnector(aiohttp.TCPConnector):
    """aiohttp's connector keeping at most ``max_idle`` idle connections, oldest closed first.

    aiohttp's ``limit`` counts connections in use only: each host of a pass would keep an
    idle socket for the whole keep-alive time, hundreds of file descriptors in a pass over
    many hosts. This hooks ``_release``, where aiohttp pools a connection after its response,
    and reads its pool ``_conns``: both private, so arguments pass through untouched, and an
    aiohttp without them keeps its own pooling (the test on idle sockets then fails).
    """

    def __init__(self, *, max_idle: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_idle = max_idle

    def _release(self, *args: Any, **kwargs: Any) -> None:
        super()._release(*args, **kwargs)
        pools = getattr(self, "_conns", None)
        if not isinstance(pools, dict):
            return
        idle = [(t, p) for pool in pools.values() for p, t in pool if p.is_connected()]
        if len(idle) > self._max_idle:
            idle.sort(key=lambda pair: pair[0])
            # A closed connection is dropped from the pool when aiohttp next looks at it.
            for _, proto in idle[: len(idle) - self._max_idle]:
                proto.close()


class _Body(httpx.AsyncByteStream):
    """The response body as aiohttp reads it: raw (never decompressed), in arrival order."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, OSError) as exc:
            raise _translated(exc) from exc

    async def aclose(self) -> None:
        # Back to the pool if the body was read to its end; closed otherwise.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests with an :class:`aiohttp.ClientSession` over ``connector()``.

    The session is made on first use (aiohttp binds it to the running event loop) and closed
    by :meth:`aclose`. It keeps no cookies (httpx's client does), follows no redirects,
    decompresses nothing and reads no proxy from the environment.
    """

    def __init__(self, connector: Callable[[], aiohttp.BaseConnector]) -> None:
        self._connector = connector
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=self._connector(),
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=False,
                trust_env=False,
                read_bufsize=_READ_BUFSIZE,
                max_line_size=_MAX_LINE,
                max_field_size=_MAX_LINE,
                max_headers=_MAX_HEADERS,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        headers = [_header(name, value) for name, value in request.headers.raw]
        try:
            response = await self._open().request(
                request.method,
                # httpx already turned user:password into an Authorization header; aiohttp
                # refuses to get credentials both ways.
                URL(str(request.url), encoded=True).with_user(None),
                headers=headers,
                data=request.content or None,
                allow_redirects=False,
                skip_auto_headers=("Content-Type",),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=timeout.get("connect"), sock_read=timeout.get("read")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except (aiohttp.ClientError, ssl.SSLError) as exc:
            raise _translated(exc) from exc
        if response.status < 200:
            # aiohttp skips interim 1xx answers; what is left is no final response: a status
            # under 100, or 101 switching to a protocol we never asked for.
            response.close()
            raise httpx.RemoteProtocolError(f"status {response.status} is not a final response")
        version = response.version
        extensions = {
            "http_version": f"HTTP/{version.major}.{version.minor}".encode() if version else b"",
            "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
        }
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_Body(response),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _header(name: bytes, value: bytes) -> tuple[str, str]:
    """A request header as aiohttp takes it, or ``LocalProtocolError`` if it cannot be sent."""
    if not _TOKEN.fullmatch(name):
        raise httpx.LocalProtocolError(f"header name {name!r} is not a valid HTTP token")
    if _CONTROL.search(value):
        raise httpx.LocalProtocolError(
            f"header {name.decode()} holds a control character ({value!r}); remove it"
        )
    return name.decode("ascii"), _text(value)


def _text(value: bytes) -> str:
    """A header value for aiohttp, which writes header text as UTF-8: UTF-8 bytes go out as
    they came in; other bytes (a Latin-1 ETag) as their Latin-1 reading, re-encoded."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")
