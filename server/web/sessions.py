"""Each request's staff session, checked against the database rather than the cookie.

The login cookie is signed, so nobody can forge one, but what it says can go stale: the
owner logs out, an admin takes a role away or resets a password, the owner changes it on
another computer. So the cookie only names the user and a session; on every request the
session's row in ``staff_sessions`` is read together with the ``users`` row (one read by
primary key, in a snapshot transaction that takes no write lock). No row (logged out, a
password changed or reset, expired), or a cookie issued before the user's
``sessions_from_ms``, and the cookie opens nothing; the roles are the row's, now. There is
no cache: the database is the truth for every worker process. Deputies' phones carry no
login cookie and never pay for the read.

A console socket outlives the request that opened it, so it is checked again every
RECHECK_S seconds (with jitter) while it is open, and closed (1008, the page does not
reconnect) once its session has ended or lost the console's roles. A socket of another
audience (the projector, the public page) does not rest on the staff cookie and is left
alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Awaitable
from dataclasses import replace

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.base.keys import StaffSession
from server.office import accounts
from server.storage.db import snapshot_read
from server.web.http import CONSOLE_ROLES, STAFF_COOKIE, STAFF_SCOPE_KEY, Services, services

log = logging.getLogger(__name__)

RECHECK_S = 10.0
POLICY_VIOLATION = 1008
CONSOLE_SOCKET = re.compile(r"/ws/\d+/console")


async def lookup(svc: Services, cookie: str | None) -> StaffSession | None:
    """The live session the cookie names, with the roles the users table gives now."""
    session = svc.keys.read_staff(cookie)
    if session is None or not 0 < session.user_id < 2**31:  # beyond any database's integer
        return None
    async with snapshot_read(svc.engine) as db:
        account = await accounts.find_session(db, session.user_id, session.sid)
    if account is None or session.issued_ms < account.sessions_from_ms:
        return None
    return replace(session, username=account.username, roles=accounts.session_roles(account))


async def resolve(conn: HTTPConnection) -> StaffSession | None:
    return await lookup(services(conn), conn.cookies.get(STAFF_COOKIE))


class StaffSessions:
    """Puts the live session (or None) into the scope for :func:`server.web.http.staff`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    # A plain function returning the next app's coroutine: no frame of its own held for
    # the hours a phone's socket lives (server/web/lean_protocols.py, issue 20).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in ("http", "websocket") and STAFF_COOKIE not in HTTPConnection(scope).cookies:
            scope[STAFF_SCOPE_KEY] = None  # a phone, a screen, the public: no staff session
            return self.app(scope, receive, send)
        return self._staff(scope, receive, send)

    async def _staff(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            conn = HTTPConnection(scope)
            session = await resolve(conn) if STAFF_COOKIE in conn.cookies else None
            scope[STAFF_SCOPE_KEY] = session
            if (
                session is not None
                and scope["type"] == "websocket"
                and CONSOLE_SOCKET.fullmatch(scope["path"])
            ):
                await _watched(self.app, scope, receive, send, services(conn), conn.cookies[STAFF_COOKIE])
                return
        await self.app(scope, receive, send)


async def _watched(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, svc: Services, cookie: str
) -> None:
    """Run a console socket; from its accept on, close it when its session ends."""
    watcher: asyncio.Task[None] | None = None

    async def send_and_watch(message: Message) -> None:
        nonlocal watcher
        await send(message)
        if message["type"] == "websocket.accept" and watcher is None:
            watcher = asyncio.ensure_future(_watch(svc, cookie, send))

    try:
        await app(scope, receive, send_and_watch)
    finally:
        if watcher is not None:
            watcher.cancel()


async def _watch(svc: Services, cookie: str, send: Send) -> None:
    while True:
        await asyncio.sleep(RECHECK_S * random.uniform(0.8, 1.2))
        try:
            session = await lookup(svc, cookie)
        except (SQLAlchemyError, OSError):  # the database is busy or away: ask again later
            log.warning("could not recheck a console socket's session", exc_info=True)
            continue
        if session is None or not session.roles & CONSOLE_ROLES:
            # The socket's own handler then receives the disconnect and leaves its room.
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
            return
