"""Politeness: how many requests at once, how often per host, and how long to back off."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["HostLimiter", "backoff_delay", "parse_retry_after"]

# A hostile Retry-After must not silence a host for months.
MAX_RETRY_AFTER = 86_400.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP date); None if garbage."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with jitter: ``base * 2**attempt`` capped, times 0.5-1.0."""
    ceiling = min(cap, base * 2.0**attempt)
    draw = rng.random() if rng is not None else random.random()
    return ceiling * (0.5 + 0.5 * draw)


class HostLimiter:
    """Global and per-host concurrency, a minimum delay between starts per host, and
    host-wide blocks (``Retry-After``) that hold across runs when the store persists them."""

    def __init__(
        self,
        concurrency: int,
        per_host: int,
        min_delay: float,
        blocks: Mapping[str, datetime] | None = None,
    ) -> None:
        self._global = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._min_delay = min_delay
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self.blocks: dict[str, datetime] = dict(blocks or {})

    def blocked_for(self, host: str, now: datetime | None = None) -> float:
        """Seconds until ``host`` may be asked again (0 when it may be asked now)."""
        until = self.blocks.get(host)
        if until is None:
            return 0.0
        return max(0.0, (until - (now or datetime.now(UTC))).total_seconds())

    def block(self, host: str, seconds: float) -> None:
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        if host not in self.blocks or until > self.blocks[host]:
            self.blocks[host] = until

    def in_force(self) -> dict[str, datetime]:
        now = datetime.now(UTC)
        return {h: t for h, t in self.blocks.items() if t > now}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one request slot for ``host``: per-host first, so a busy host never
        occupies global slots while it waits its turn."""
        sem = self._hosts.setdefault(host, asyncio.Semaphore(self._per_host))
        async with sem:
            now = time.monotonic()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self._min_delay
            if start > now:
                await asyncio.sleep(start - now)
            async with self._global:
                yield
