"""Each request's staff session, checked against the users table rather than the cookie.

The login cookie is signed, so nobody can forge one, but what it says can go stale: an
admin takes a role away, resets a password, or the owner changes it on another computer.
So the cookie only names the user and when it was issued; the roles come from the
``users`` row on every request, and a cookie issued before the row's ``sessions_from_ms``
(set by a password change or reset) opens nothing. One primary-key read per staff
request, in a snapshot transaction that takes no write lock; deputies' phones carry no
login cookie and never pay for it.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from server import accounts
from server.auth import StaffSession
from server.db import snapshot_read
from server.web import STAFF_COOKIE, STAFF_SCOPE_KEY, services


async def resolve(conn: HTTPConnection) -> StaffSession | None:
    svc = services(conn)
    session = svc.keys.read_staff(conn.cookies.get(STAFF_COOKIE))
    if session is None or not 0 < session.user_id < 2**31:  # beyond any database's integer
        return None
    async with snapshot_read(svc.engine) as db:
        account = await accounts.find(db, user_id=session.user_id)
    if account is None or session.issued_ms < account.sessions_from_ms:
        return None
    return replace(session, username=account.username, roles=accounts.session_roles(account))


class StaffSessions:
    """Puts the live session (or None) into the scope for :func:`server.web.staff`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            conn = HTTPConnection(scope)
            scope[STAFF_SCOPE_KEY] = await resolve(conn) if STAFF_COOKIE in conn.cookies else None
        await self.app(scope, receive, send)
