"""SSRF guard: only http(s), only globally routable addresses, and dial what was checked.

The check lives in the connector's resolver, so it runs for every new connection of every hop,
on the addresses the connection is actually made to: the host is resolved once, every address
is vetted, and the socket is opened to a vetted IP (TLS SNI and ``Host`` keep the name). There
is no second lookup, hence no DNS-rebinding window. Literal IPs are vetted by the client before
each hop, odd spellings (``2130706433``, ``0x7f.1``) as the address they mean.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiohttp.abc import AbstractResolver, ResolveResult

from newsradar.config import FetchSettings
from newsradar.errors import PermanentFetchError, TransientFetchError

__all__ = [
    "AddressPolicy",
    "GuardedResolver",
    "Resolver",
    "check_scheme",
    "literal_address",
    "system_resolver",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the IP addresses (as strings) a connection may go to.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

# Cloud metadata endpoints: refused even with allow_private_networks, unless listed explicitly.
_METADATA = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/16", "100.100.100.200/32", "fd00:ec2::254/128", "fe80::/10")
)


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Resolve with the OS resolver (getaddrinfo in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def literal_address(host: str) -> Address | None:
    """The IP a URL's host names without DNS: an IP literal, or an old IPv4 spelling
    (``2130706433``, ``0x7f.1``, ``127.1``) that the C resolver reads as one."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_scheme(url: str, scheme: str) -> None:
    """Refuse anything but http and https (file:, ftp:, gopher:, javascript: ...)."""
    if scheme not in ("http", "https"):
        raise PermanentFetchError(
            "bad_scheme", url, f"scheme {scheme or '(none)'!r} is not allowed; use http(s)"
        )


class AddressPolicy:
    """Which IP addresses may be connected to, from ``[fetch]`` settings."""

    def __init__(self, settings: FetchSettings) -> None:
        self.allow_private = settings.allow_private_networks
        self.allowed = tuple(ipaddress.ip_network(c, strict=False) for c in settings.allow_networks)
        # Verdicts by address: a pass asks about the same few addresses thousands of times.
        self._verdicts: dict[Address, bool] = {}

    def permits(self, address: Address) -> bool:
        verdict = self._verdicts.get(address)
        if verdict is None:
            verdict = self._verdicts[address] = self._judge(address)
        return verdict

    def _judge(self, address: Address) -> bool:
        if any(address.version == net.version and address in net for net in self.allowed):
            return True
        if address.is_multicast or address.is_unspecified or address.is_reserved:
            return False
        if any(address.version == net.version and address in net for net in _METADATA):
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            # ::ffff:a.b.c.d reaches the IPv4 host; judge by the address it maps to.
            return self.allow_private or address.ipv4_mapped.is_global
        return address.is_global or (self.allow_private and address.is_private)

    def check(self, url: str, host: str, addresses: Iterable[str]) -> list[str]:
        """Return the addresses if every one is permitted, else raise ``blocked_address``."""
        vetted = []
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not self.permits(address):
                raise PermanentFetchError(
                    "blocked_address",
                    url,
                    f"{host} resolves to {address}, which is not a public address; "
                    "add its network to [fetch] allow_networks if this is intended",
                )
            vetted.append(str(address))
        if not vetted:
            raise TransientFetchError("dns", url, f"{host} resolved to no address")
        return vetted


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver for the fetcher: resolve, vet every address, return the vetted ones.

    aiohttp dials only what this returns, so the addresses checked are the addresses used.
    A failure is a :class:`TransientFetchError` (``dns``) or a ``blocked_address``, raised
    through aiohttp untouched (it wraps only ``OSError``).
    """

    def __init__(self, policy: AddressPolicy, resolver: Resolver, timeout: float) -> None:
        self.policy = policy
        self.resolver = resolver
        self.timeout = timeout

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        where = f"{host}:{port}"
        try:
            async with asyncio.timeout(self.timeout):
                found = await self.resolver(host, port)
        except TimeoutError:
            raise TransientFetchError("dns", where, f"resolving {host} timed out") from None
        except OSError as exc:
            raise TransientFetchError("dns", where, f"cannot resolve {host}: {exc}") from exc
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.policy.check(where, host, found)
        ]

    async def close(self) -> None:
        pass
