"""The client's real address behind a trusted reverse proxy, and nobody else's word for it.

Behind nginx every phone arrives from the proxy's address: per-address limits would
throttle the whole hall as one guesser, the hall network would mean nothing, and the
audit trail would name the proxy. So the proxy's ``X-Forwarded-For`` and
``X-Forwarded-Proto`` are believed, but only when the connection comes from an address
listed in ``WENZHENG_TRUSTED_PROXIES`` (off by default). From anyone else the headers are
ignored: a phone cannot pick the address it is judged by.

``X-Forwarded-For`` is read from the right: the last hop was added by our proxy; hops
that are themselves trusted proxies are skipped; the first untrusted address is the
client. Anything malformed leaves the connection's own address in place.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 16


def parse_trusted(text: str) -> tuple[Network, ...]:
    """``WENZHENG_TRUSTED_PROXIES``: addresses or CIDR ranges, separated by commas or spaces.
    Raises ValueError on a bad one (the server refuses to start on a typo)."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in text.replace(",", " ").split())


def _trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in n for n in networks)


def _client(forwarded: str, networks: tuple[Network, ...]) -> str | None:
    hops = [h.strip() for h in forwarded.split(",")][-MAX_HOPS:]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return None  # a garbled chain: believe none of it
        if not any(address in n for n in networks):
            return str(address)
    return None


class ForwardedHeaders:
    """Outermost middleware: rewrites ``scope["client"]`` and ``scope["scheme"]``."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    # A plain function returning the next app's coroutine: no frame of its own held for
    # the hours a phone's socket lives (server/web/lean_protocols.py, issue 20).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            if client and _trusted(client[0], self.trusted):
                headers = dict(scope["headers"])
                forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
                real = _client(forwarded, self.trusted) if forwarded else None
                if real is not None:
                    scope["client"] = (real, 0)
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = proto
        return self.app(scope, receive, send)
