"""SSRF guard: only http(s), only globally routable addresses, and dial what was checked.

The check lives in the network backend, so it runs for every new connection of every hop, on
the addresses the connection is actually made to: the host is resolved once, every address is
vetted, and the socket is opened to a vetted IP (TLS SNI and ``Host`` keep the name). There is
no second lookup, hence no DNS-rebinding window. Odd spellings (``2130706433``, ``0x7f.1``)
resolve to the address they mean and are vetted like any other.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

from newsradar.config import FetchSettings
from newsradar.errors import PermanentFetchError, TransientFetchError

__all__ = ["AddressPolicy", "GuardedBackend", "Resolver", "check_scheme", "system_resolver"]

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


class GuardedBackend(AsyncNetworkBackend):
    """An httpcore network backend that resolves, vets, then dials the vetted IP."""

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        inner: AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        where = f"{host}:{port}"
        try:
            async with asyncio.timeout(timeout):
                found = await self.resolver(host.strip("[]"), port)
        except TimeoutError:
            raise TransientFetchError("dns", where, f"resolving {host} timed out") from None
        except OSError as exc:
            raise TransientFetchError("dns", where, f"cannot resolve {host}: {exc}") from exc
        vetted = self.policy.check(where, host, found)
        last: Exception | None = None
        for address in vetted:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        raise PermanentFetchError("bad_scheme", path, "unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
