"""Shared bits of the fetch tests: tiny limits, a name->127.0.0.1 resolver, sample bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from newsradar.config import FetchSettings
from newsradar.fetch import Fetcher

T = TypeVar("T")

RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>t</title>'
    b"<item><guid>1</guid><title>one</title><link>https://example.org/1</link></item>"
    b"</channel></rss>"
)


def settings(**overrides: Any) -> FetchSettings:
    """Loopback allowed, tiny delays, small timeouts: the whole suite stays fast."""
    base: dict[str, Any] = {
        "allow_networks": ("127.0.0.1/32",),
        "timeout": 2.0,
        "deadline": 5.0,
        "min_host_delay": 0.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "retries": 0,
    }
    base.update(overrides)
    return FetchSettings(**base)


def names(mapping: Mapping[str, Sequence[str]]) -> Callable[[str, int], Awaitable[Sequence[str]]]:
    """A resolver for test names (``a.test`` -> 127.0.0.1); unknown names fail like DNS."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host in mapping:
            return mapping[host]
        raise OSError(f"unknown test name {host}")

    return resolve


def run(coro_fn: Callable[[Fetcher], Awaitable[T]], fetch: FetchSettings, **kwargs: Any) -> T:
    """Run ``coro_fn(fetcher)`` on a fresh Fetcher in a fresh event loop."""

    async def main() -> T:
        async with Fetcher(fetch, **kwargs) as fetcher:
            return await coro_fn(fetcher)

    return asyncio.run(main())
