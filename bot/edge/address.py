"""Which client a request comes from: the peer address, or what trusted proxies say it is.

`X-Forwarded-For` is believed only hop by hop from the right, and only while the hop that
wrote it is one of TRUSTED_PROXIES: a client that sends its own `X-Forwarded-For` straight to a
channel (or through a proxy that appends to it) cannot choose the address its limits count on.
IPv6 clients are counted by their /64 network: one host gets a whole /64 and could otherwise
rotate through it.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable, Sequence, Tuple, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPV6_CLIENT_PREFIX = 64


class TrustedProxies:
    """TRUSTED_PROXIES (addresses and CIDR networks) as a membership test."""

    def __init__(self, entries: Iterable[str]) -> None:
        networks = []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {entry!r} is not an address or a CIDR network "
                    "(such as 10.0.0.5 or 10.0.0.0/8)"
                ) from None
        self.networks: Tuple[Network, ...] = tuple(networks)

    def __contains__(self, address: Address) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


def parse_address(text: str | None) -> Address | None:
    """An address from a peer or an `X-Forwarded-For` entry (`1.2.3.4:80`, `[::1]:80` too)."""
    if not text:
        return None
    text = text.strip().strip('"')
    candidates = [text]
    if text.startswith("["):  # [v6]:port
        candidates.append(text[1:].split("]", 1)[0])
    elif text.count(":") == 1:  # v4:port
        candidates.append(text.split(":", 1)[0])
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate.split("%", 1)[0])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            return address.ipv4_mapped
        return address
    return None


def forwarded_chain(headers: Sequence[str]) -> list[str]:
    """Every `X-Forwarded-For` entry, in order, across repeated headers."""
    return [item.strip() for header in headers for item in header.split(",") if item.strip()]


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: TrustedProxies) -> str:
    """The address a request's limits count on (a string key; `unknown` when there is none).

    Walks from the peer leftwards through `X-Forwarded-For` while the current hop is a trusted
    proxy; the first untrusted hop is the client. An entry that is not an address stops the walk
    at the proxy that wrote it.
    """
    current = parse_address(peer)
    if current is None:
        return "unknown"
    for entry in reversed(forwarded_chain(forwarded_for)):
        if current not in trusted:
            break
        previous = parse_address(entry)
        if previous is None:
            break
        current = previous
    return address_key(current)


def address_key(address: Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return str(network)
    return str(address)


def forward_header(incoming: Sequence[str], peer: str | None) -> str:
    """The `X-Forwarded-For` a proxy (the web process) passes on: what came, plus its peer."""
    chain = forwarded_chain(incoming)
    if peer:
        chain.append(peer)
    return ", ".join(chain)
