"""The live channel: one websocket per screen.

Protocol (client → server, JSON text frames):
  {"type": "hello", "seq": N}   after (re)connecting: the last seq the page has seen
  {"type": "time", "t0": T}     clock probe; doubles as the heartbeat
Server → client: HTML with hx-swap-oob fragments, or JSON {"type": "time"|"hello"|"error"}.

The socket joins its room at once (subscribe), but receives broadcasts only after its
hello; the hello is answered, when the page is behind, with the fragments that changed
since its seq, or with every fragment of the screen (server/room/resync.py); each
replaces a whole element, so a repeat is harmless.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.base.keys import DeputyBinding
from server.office import accounts
from server.room.connection import Connection
from server.room.fastsend import raw_writer
from server.room.hub import Room, time_reply
from server.room.runtime import NotRecorded, now_ms
from server.storage.store import MeetingNotFound
from server.web.http import CONSOLE_ROLES, SCREEN_COOKIE, same_origin, services, staff
from server.web.phone_auth import phone_binding

log = logging.getLogger(__name__)

MAX_MESSAGE = 512
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


async def _who(websocket: WebSocket, meeting_id: int, audience: str) -> tuple[bool, DeputyBinding | None]:
    """Whether this socket may see the audience; a deputy's, which phone it is."""
    if audience == "deputy":
        binding = await phone_binding(websocket, meeting_id)
        return (binding is not None, binding)
    svc = services(websocket)
    if audience == "console":
        return (_console_staff(websocket), None)
    if audience == "public":
        return (True, None)  # the public page is for anyone; it shows what the hall sees
    if audience == "script" and _console_staff(websocket):  # staff, or a paired tablet below
        return (True, None)
    if audience in ("projector", "podium", "script"):
        screen = svc.keys.read_screen(websocket.cookies.get(SCREEN_COOKIE))
        return (screen is not None and screen.meeting_id == meeting_id and screen.kind == audience, None)
    return (False, None)


def _console_staff(websocket: WebSocket) -> bool:
    """A staff session with a console role whose one-time password has been changed: the
    pages send a session that still holds one to the password page; so does the socket."""
    session = staff(websocket)
    if session is None or accounts.MUST_CHANGE in session.roles:
        return False
    return bool(session.roles & CONSOLE_ROLES)


class LiveSocketApp:
    """:func:`live_socket` as a bare ASGI app for its route. Starlette wraps a function
    endpoint in two more coroutine frames and closures that a socket holds for its whole
    life (about 2.5 KiB a phone, issue 20); the same exception handlers still apply, from
    Starlette's ExceptionMiddleware outside the router."""

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return live_socket(WebSocket(scope, receive=receive, send=send))


async def live_socket(websocket: WebSocket) -> None:
    if not same_origin(websocket):  # another site's page: no cross-site socket hijacking
        await websocket.close(code=POLICY_VIOLATION)
        return
    meeting_id = int(websocket.path_params["meeting_id"])
    audience = websocket.path_params["audience"]
    try:
        room = await services(websocket).meetings.room(meeting_id)
    except MeetingNotFound:
        await websocket.close(code=POLICY_VIOLATION)
        return
    try:
        allowed, phone = await _who(websocket, meeting_id, audience)
    except NotRecorded:  # a phone's first binding, and the database is busy: come back
        await websocket.close(code=TRY_AGAIN_LATER)
        return
    if not allowed:
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    _forget_handshake(websocket)
    deputy_id, sid = (phone.deputy_id, phone.sid) if phone else (None, "")
    conn = Connection(websocket, audience, deputy_id, sid, raw=raw_writer(websocket))
    room.add(conn)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:  # a binary frame: the protocol is text only
                conn.offer(json.dumps({"type": "error", "message": "无法识别的消息"}))
                continue
            reply = await _handle(room, conn, text)
            if reply:
                conn.offer(reply)
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("socket of meeting %s", meeting_id)
    finally:
        room.remove(conn)


def _forget_handshake(websocket: WebSocket) -> None:
    """Who the socket is was decided before its accept; nothing reads its handshake's
    headers again, and a phone's socket held them (and their parsed cookies) for hours,
    about 2 KiB a phone (issue 20)."""
    websocket.scope["headers"] = []
    for cached in ("_headers", "_cookies"):  # Starlette's parsed copies (HTTPConnection)
        websocket.__dict__.pop(cached, None)


async def _handle(room: Room, conn: Connection, raw: str) -> str | None:
    if len(raw) > MAX_MESSAGE:
        return json.dumps({"type": "error", "message": "消息过长"})
    try:
        message = json.loads(raw)
        kind = message["type"]
    except (ValueError, KeyError, TypeError):
        return json.dumps({"type": "error", "message": "无法识别的消息"})
    if kind == "time":
        t0 = message.get("t0")
        if isinstance(t0, float) and not math.isfinite(t0):
            t0 = None  # NaN or Infinity: Python's json reads them, no browser's JSON.parse does
        return time_reply(t0 if isinstance(t0, int | float) else None, now_ms())
    if kind == "hello":
        seq = message.get("seq")
        seq = seq if isinstance(seq, int) else -1
        missed = await room.resync_message(conn, seq)
        conn.ready = True
        if missed:
            conn.offer(missed)
        return json.dumps({"type": "hello", "seq": room.runtime.state.seq})
    return json.dumps({"type": "error", "message": "无法识别的消息"})
