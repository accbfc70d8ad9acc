"""The only module that talks HTTP: one hardened, polite client for feeds, pages, robots.txt.

    async with Fetcher(cfg.fetch, host_blocks=store_blocks) as fetcher:
        result = await fetcher.fetch_feed(feed.url, etag=state.etag)

See :mod:`newsradar.fetch.client` for what every request goes through.
"""

from newsradar.fetch.client import Fetcher, user_agent
from newsradar.fetch.guard import AddressPolicy, Resolver, system_resolver
from newsradar.fetch.politeness import backoff_delay, parse_retry_after

__all__ = [
    "AddressPolicy",
    "Fetcher",
    "Resolver",
    "backoff_delay",
    "parse_retry_after",
    "system_resolver",
    "user_agent",
]
