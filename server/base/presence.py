"""Presence in the hall beyond the QR code: the hall's network, and address blocks.

A meeting may name its hall's network (address ranges: the hall Wi-Fi, as the server sees
it behind the hall's NAT). Then a check-in or a typed card code from any other address is
refused, whatever hall code it carries: on a televised or streamed session the projector's
QR code can be scanned at home. Staff can still check a deputy in by hand. Off by default.

With the setting off, each check-in by QR keeps its address block (IPv4 /24, IPv6 /64),
and the console marks the check-ins from outside the block most of the hall used
(screens/view.py, ``outside_hall``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_RANGES = 32


class BadNetwork(ValueError):
    """A range that is not an address or a network in CIDR form."""


def parse_ranges(text: str) -> tuple[str, ...]:
    """The ranges staff typed (one per line, or separated by commas or spaces), checked
    and written in CIDR form; raises :class:`BadNetwork` naming the first bad one."""
    found: list[str] = []
    for part in text.replace(",", " ").replace("，", " ").split():
        try:
            network = ipaddress.ip_network(part.strip(), strict=False)
        except ValueError as exc:
            raise BadNetwork(part[:64]) from exc
        if str(network) not in found:
            found.append(str(network))
    if len(found) > MAX_RANGES:
        raise BadNetwork(found[MAX_RANGES])
    return tuple(found)


@lru_cache(maxsize=256)
def _networks(ranges: tuple[str, ...]) -> tuple[Network, ...]:
    out = []
    for r in ranges:
        try:
            out.append(ipaddress.ip_network(r, strict=False))
        except ValueError:
            continue  # checked on the way in; a damaged setting matches nothing
    return tuple(out)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def in_hall(host: str, ranges: tuple[str, ...]) -> bool:
    """Whether an address may check in: always when no hall network is set."""
    if not ranges:
        return True
    address = _address(host)
    return address is not None and any(address in n for n in _networks(ranges))


def block_of(host: str) -> str:
    """The address block a check-in came from: IPv4 /24, IPv6 /64; "" for no address."""
    address = _address(host)
    if address is None:
        return ""
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def ranges_text(ranges: Iterable[str]) -> str:
    return "\n".join(ranges)
