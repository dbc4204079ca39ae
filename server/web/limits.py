"""Limits per client: how big a message, how many live sockets, how fast they open.

Why: without them one anonymous client could take the server's memory. A 16 MiB
socket frame was read whole before the app's 512-byte check (ten of them took the
process from 91 MB to 412 MB), and one address opened 1,500 public sockets in 1.6 s.

Theory of operation. Each layer refuses before the next one spends anything:

1. The transport (``wenzheng serve``'s uvicorn options): a socket message longer than
   :data:`FRAME_MAX_BYTES` is never buffered; the socket is closed with 1009.
2. :class:`ClientLimits`, an ASGI middleware, counts every live socket and every
   handshake under a key, and refuses a handshake over its key's :class:`Policy` with
   HTTP 429 before the upgrade (no socket state, no close handshake). A browser sees a
   failed handshake (1006) and retries with backoff (server/web/static/live.js). The key is who is
   asking, as far as a signed cookie proves it (:func:`credential`):

   - a deputy's phone: the deputy. A hall of 3,000 phones behind one NAT address is
     3,000 keys, so its reconnection burst after a Wi-Fi drop is never refused. Past
     its few sockets the newest one wins and the oldest is closed (1008): it is most
     likely a dead connection the server has not noticed yet.
   - a staff console (a live staff session) or a paired screen: the user or the screen.
   - anything else (the public page, a missing or forged cookie): the client address
     (``scope["client"]``, which a trusted-proxy middleware further out may rewrite; an
     IPv6 address counts by its /64, which one client usually holds whole). Tight caps:
     open sockets, and handshakes at a rate with a burst.
3. HTTP request bodies. No route reads more than a form of 64 KiB except the imports
   and a follow-up post's attachments (:data:`ATTACH_PATH`, 52 MiB), so a declared body
   over :data:`BODY_MAX_BYTES` gets 413 before the app reads a byte,
   and a body without a declared length gets 411 (browsers always declare it). An
   anonymous request with a body is counted under its address while it runs, at most
   :data:`ANONYMOUS_BODIES` at once: a form that arrives slowly holds its part read.

The counts live in this process (each worker counts its own). Keys with nothing open
and a full bucket are forgotten now and then, so the tables stay as small as the set
of recent clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import re
import time
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from screens import messages as msg
from server.base.settings import Settings
from server.office.attachments import MAX_BYTES as ATTACH_FILE_MAX
from server.office.attachments import MAX_FILES as ATTACH_FILES
from server.office.sheets import MAX_BYTES as UPLOAD_FILE_MAX
from server.web.http import DEPUTY_COOKIE, SCREEN_COOKIE, STAFF_SCOPE_KEY, message_page

# The live protocol's messages are at most 512 characters (server/web/ws.py); a few KiB
# leave room for any of them in any encoding.
FRAME_MAX_BYTES = 4 * 1024
BODY_MAX_BYTES = 256 * 1024
UPLOAD_MAX_BYTES = UPLOAD_FILE_MAX + 1024 * 1024  # under it, the route says 文件太大 itself
UPLOAD_PATH = re.compile(r"/bodies/[0-9]+/(?:roster|officials)/preview$")
# A follow-up post with its attachments (an organ's through its link, staff's on its
# behalf): five files of 10 MB and the form around them (server/office/attachments.py).
ATTACH_MAX_BYTES = ATTACH_FILES * ATTACH_FILE_MAX + 2 * 1024 * 1024
ATTACH_PATH = re.compile(r"^/(?:o/[^/]+/items/[0-9]+|followup/[0-9]+/post)$")
ANONYMOUS_BODIES = 32
SUPERSEDED = 1008  # the page does not reconnect on it: a newer socket of this phone took over
SWEEP_AT = 1024


@dataclass(frozen=True)
class Policy:
    """How many things one key may hold open, and how fast it may open them."""

    open: int  # at once
    burst: float = math.inf  # opened at once, from rest
    per_second: float = math.inf  # then this many a second
    newest_wins: bool = False  # over ``open``: close the oldest (True) or refuse the new one


def policies(settings: Settings) -> dict[str, Policy]:
    return {
        "address": Policy(settings.ws_per_address, settings.ws_connect_burst, settings.ws_connect_rate),
        # A phone opens one socket, and one more each time its connection drops.
        "phone": Policy(settings.ws_per_phone, burst=10, per_second=0.5, newest_wins=True),
        # A shared staff account may be open in a dozen offices; a screen is one browser.
        "staff": Policy(32, burst=32, per_second=2),
        "screen": Policy(32, burst=32, per_second=2),
        "body": Policy(ANONYMOUS_BODIES),
    }


class Slot:
    """One live socket or request, as the limits see it."""

    __slots__ = ("accepted", "send", "superseded")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.accepted = False
        self.superseded = False


class Entry:
    """One key's open slots (oldest first) and its bucket."""

    __slots__ = ("at", "slots", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.slots: list[Slot] = []
        self.tokens = tokens
        self.at = at

    def refill(self, policy: Policy, now: float) -> None:
        if self.tokens < policy.burst:
            self.tokens = min(policy.burst, self.tokens + (now - self.at) * policy.per_second)
        self.at = now


class Table:
    """The entries of one kind of key, under one policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.entries: dict[Hashable, Entry] = {}
        self._sweep_at = SWEEP_AT

    def admit(self, key: Hashable, slot: Slot, now: float) -> bool:
        """Count ``slot`` under ``key``; False, and nothing counted, when over the policy."""
        policy = self.policy
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= self._sweep_at:
                self._sweep(now)
            entry = self.entries[key] = Entry(policy.burst, now)
        entry.refill(policy, now)
        if entry.tokens < 1:
            return False
        if policy.newest_wins:
            live = [s for s in entry.slots if not s.superseded]
            for old in live[: max(0, len(live) - policy.open + 1)]:
                if old.accepted:  # one still in its handshake is left to finish
                    supersede(old)
        elif len(entry.slots) >= policy.open:
            return False
        entry.tokens -= 1
        entry.slots.append(slot)
        return True

    def release(self, key: Hashable, slot: Slot) -> None:
        entry = self.entries.get(key)
        if entry is not None:
            with contextlib.suppress(ValueError):
                entry.slots.remove(slot)

    def _sweep(self, now: float) -> None:
        for key, entry in list(self.entries.items()):
            entry.refill(self.policy, now)
            if not entry.slots and entry.tokens >= self.policy.burst:
                del self.entries[key]
        self._sweep_at = max(SWEEP_AT, 2 * len(self.entries))


_closing: set[asyncio.Future[None]] = set()


def supersede(slot: Slot) -> None:
    """Close an older socket of the same phone, in the background: a dead connection's
    send may wait for its full buffer until the keepalive gives up on it."""
    slot.superseded = True

    async def close() -> None:
        with contextlib.suppress(Exception):
            await slot.send({"type": "websocket.close", "code": SUPERSEDED, "reason": "superseded"})

    task = asyncio.ensure_future(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


def address_key(scope: Scope) -> str:
    """The client's address; an IPv6 address by its /64."""
    client = scope.get("client")
    host = str(client[0]) if client else ""
    if ":" not in host:
        return host
    try:
        ip = ipaddress.IPv6Address(host)
    except ValueError:
        return host
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def credential(scope: Scope, audience: str | None) -> tuple[str, Hashable] | None:
    """The signed-in client a socket of ``audience`` (any, for HTTP) proves to be, if any.

    Only signatures are checked here, in memory; whether the phone is the card's bound
    one, or the session still valid, is the app's business."""
    if audience in (None, "console", "script"):  # the script: staff, or a paired tablet
        session = scope.get(STAFF_SCOPE_KEY)  # server.web.sessions.StaffSessions, further out
        if session is not None:
            return "staff", session.user_id
    svc = getattr(getattr(scope.get("app"), "state", None), "services", None)
    if svc is None or audience not in (None, "deputy", "projector", "podium", "script"):
        return None
    cookies = HTTPConnection(scope).cookies
    if audience in (None, "deputy"):
        phone = svc.keys.read_deputy(cookies.get(DEPUTY_COOKIE))
        if phone is not None:
            return "phone", phone.deputy_id
    if audience != "deputy":
        screen = svc.keys.read_screen(cookies.get(SCREEN_COOKIE))
        if screen is not None and (audience is None or screen.kind == audience):
            return "screen", screen.sid
    return None


def declared_body(scope: Scope) -> int | None:
    """The body's declared length: 0 for none, None when it is not declared (or not a number)."""
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
        if name == b"transfer-encoding":
            chunked = True
    return None if chunked else 0


class ClientLimits:
    """The ASGI middleware. It must run inside any middleware that sets ``scope["client"]``
    from a trusted proxy, and inside :class:`server.web.sessions.StaffSessions`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.tables = {kind: Table(policy) for kind, policy in policies(settings).items()}

    # A plain function returning the next app's coroutine: no frame of its own held for
    # the hours a phone's socket lives (server/web/lean_protocols.py, issue 20).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            return self._socket(scope, receive, send)
        if scope["type"] == "http":
            return self._request(scope, receive, send)
        return self.app(scope, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = scope["path"].split("/")  # [root path]/ws/{meeting}/{audience}
        audience = parts[-1] if len(parts) >= 4 and parts[-3] == "ws" else ""
        kind, key = credential(scope, audience) or ("address", address_key(scope))
        table, slot = self.tables[kind], Slot(send)
        if not table.admit(key, slot, time.monotonic()):
            await refuse_socket(scope, receive, send)
            return

        async def watched(message: Message) -> None:
            if slot.superseded:
                return  # closed for a newer socket of this phone; the app hears it at once
            if message["type"] == "websocket.accept":
                slot.accepted = True
            await send(message)

        try:
            await self.app(scope, receive, watched if kind == "phone" else send)
        finally:
            table.release(key, slot)

    async def _request(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = declared_body(scope)
        cap = BODY_MAX_BYTES
        if UPLOAD_PATH.search(scope["path"]):
            cap = UPLOAD_MAX_BYTES
        elif ATTACH_PATH.search(scope["path"]):
            cap = ATTACH_MAX_BYTES
        if length is None or length > cap:
            await refuse_request(
                msg.edge("bad_request"), 411 if length is None else 413, scope, receive, send
            )
            return
        if length == 0 or credential(scope, None) is not None:
            await self.app(scope, receive, send)
            return
        key, table, slot = address_key(scope), self.tables["body"], Slot(send)
        if not table.admit(key, slot, time.monotonic()):
            await refuse_request(msg.ACCOUNTS["throttled"], 429, scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            table.release(key, slot)


_refusals: dict[tuple[str, int], bytes] = {}


async def refuse_request(text: str, status: int, scope: Scope, receive: Receive, send: Send) -> None:
    """The refusal, and the connection closed: what part of the body the server already
    read is held by the connection until its next request, which would never come. The
    page is rendered once: refusing must cost less than being sent another request."""
    body = _refusals.get((text, status))
    if body is None:
        body = _refusals[text, status] = bytes(message_page(text, status).body)
    response = Response(body, status, {"connection": "close"}, media_type="text/html")
    await response(scope, receive, send)


async def refuse_socket(scope: Scope, receive: Receive, send: Send) -> None:
    """429 before the upgrade; 1013 (try again later) where the server cannot answer HTTP."""
    await receive()  # websocket.connect
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1013})
        return
    body = b"too many connections from here; try again later\n"
    start: dict[str, Any] = {
        "type": "websocket.http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", b"5"),
        ],
    }
    await send(start)
    await send({"type": "websocket.http.response.body", "body": body})
