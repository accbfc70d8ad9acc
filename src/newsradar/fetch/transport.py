"""The wire between httpx and our types: the guarded transport, header bytes, bot walls,
and the translation of httpx exceptions into typed :class:`FetchError` kinds."""

from __future__ import annotations

import ssl

import aiohttp
import certifi
import httpx

from newsradar.config import FetchSettings
from newsradar.errors import FetchError, PermanentFetchError, TransientFetchError
from newsradar.fetch.aiohttp_transport import AiohttpTransport, BoundedConnector
from newsradar.fetch.guard import AddressPolicy, GuardedResolver, Resolver, system_resolver

__all__ = ["bot_wall", "guarded_transport", "header_bytes", "headers_of", "translate"]

# Headers that identify a bot wall in front of the site.
_BOT_WALLS = {"cf-mitigated": "Cloudflare", "x-datadome": "DataDome", "x-sucuri-id": "Sucuri"}


def guarded_transport(
    settings: FetchSettings,
    policy: AddressPolicy,
    resolver: Resolver | None,
    ssl_context: ssl.SSLContext | None,
) -> httpx.AsyncBaseTransport:
    """The transport every request goes through: aiohttp dialling only addresses that
    :class:`GuardedResolver` vetted, reading no proxy from the environment."""
    tls = ssl_context or ssl.create_default_context(cafile=certifi.where())

    def connector() -> aiohttp.TCPConnector:
        return BoundedConnector(
            resolver=GuardedResolver(policy, resolver or system_resolver, settings.timeout),
            ssl=tls,
            limit=settings.concurrency,
            limit_per_host=settings.per_host,
            # Enough for the next requests to the hosts in flight, not one per host seen.
            max_idle=settings.concurrency,
            keepalive_timeout=5.0,
        )

    return AiohttpTransport(connector)


def headers_of(response: httpx.Response) -> dict[str, str]:
    """Header names lower-cased, repeated headers joined, values decoded as latin-1."""
    # latin-1 maps bytes 1:1, so validators go back out exactly as they came in.
    out: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def header_bytes(value: str) -> bytes:
    """A stored header value as the bytes to send (the inverse of :func:`headers_of`)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def bot_wall(headers: dict[str, str]) -> str | None:
    """The anti-bot service answering instead of the site, if the headers give it away."""
    for header, name in _BOT_WALLS.items():
        if header in headers:
            return name
    server = headers.get("server", "").lower()
    for name in ("cloudflare", "akamai", "ddos-guard", "imperva", "sucuri"):
        if name in server:
            return name.capitalize()
    return None


def translate(exc: Exception, url: str) -> FetchError:
    """httpx exceptions (aiohttp's arrive translated) -> our typed errors, at the one place
    they enter."""
    if isinstance(exc, httpx.TimeoutException):
        return TransientFetchError("timeout", url, f"no answer within the timeout ({exc!r})")
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper() or "TLS" in text.upper():
            return PermanentFetchError(
                "tls_error", url, f"TLS handshake failed ({text}); no insecure fallback"
            )
        return TransientFetchError("connect", url, f"cannot connect ({text or 'refused'})")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return PermanentFetchError("bad_scheme", url, str(exc))
    if isinstance(exc, httpx.InvalidURL | httpx.LocalProtocolError):
        return PermanentFetchError("bad_url", url, str(exc))
    if isinstance(exc, ssl.SSLError):
        return PermanentFetchError("tls_error", url, f"TLS error ({exc}); no insecure fallback")
    return TransientFetchError("protocol_error", url, f"broken response ({exc!r})")
