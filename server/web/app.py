"""The ASGI application: one route table and a typed lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from screens import messages as msg
from server.base.keys import Keys
from server.base.settings import Settings, load
from server.room.bus import Bus, MemoryBus, RedisBus
from server.room.fastsend import CaptureRawSend
from server.room.gcpolicy import GcPolicy
from server.room.meetings import Meetings
from server.room.runtime import NotRecorded
from server.storage.db import create_engine
from server.web import loop_debug
from server.web.dispatch import index_routes
from server.web.http import SecureCookies, Services, flash, message_page
from server.web.limits import ClientLimits
from server.web.proxy import ForwardedHeaders, parse_trusted
from server.web.request_log import RequestLog, redact_path
from server.web.route_table import routes
from server.web.sessions import StaffSessions
from server.web.throttle import login_throttle

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders:
    """Headers on every HTTP answer: no inline script, no framing, no sniffing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    # A plain function returning the next app's coroutine: no frame of its own held for
    # the hours a phone's socket lives (server/web/lean_protocols.py, issue 20).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A route's own policy stands alone (an SVG chart styles itself: routes/charts.py).
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def not_found(request: Request, exc: Exception) -> Response:
    return message_page(msg.edge("not_found"), 404)


async def not_recorded(request: Request, exc: Exception) -> Response:
    """The database could not take a change (busy past its timeout, disk full): nothing
    was written (the transaction rolled back), and the sender may simply try again."""
    # The path as the access log has it: a hall check-in's path holds the hall code.
    log.warning("not recorded: %s %s: %r", request.method, redact_path(request.scope), exc)
    if request.headers.get("hx-request"):
        return flash(msg.edge("not_recorded"), 503)
    return message_page(msg.edge("not_recorded"), 503)


# PostgreSQL errors after which nothing was written and the same request may well succeed
# later: a lock not granted within lock_timeout (55P03), a cancelled statement (57014), a
# serialization failure or deadlock (class 40), no room (class 53: disk full, out of memory,
# too many connections), a lost connection (class 08). asyncpg raises them through
# SQLAlchemy as a plain DBAPIError with the SQLSTATE on ``orig``; SQLite's busy and full
# databases are OperationalError, mapped as a whole.
RETRY_SQLSTATES = frozenset({"55P03", "57014"})
RETRY_SQLSTATE_CLASSES = frozenset({"08", "40", "53"})


def worth_a_retry(exc: DBAPIError) -> bool:
    state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
    return state in RETRY_SQLSTATES or state[:2] in RETRY_SQLSTATE_CLASSES


async def database_error(request: Request, exc: Exception) -> Response:
    """A database error that is no SQLite OperationalError: "未记录" when it is one of the
    conditions above, else the ordinary 500 (re-raised, so it is logged as one)."""
    if isinstance(exc, DBAPIError) and worth_a_retry(exc):
        return await not_recorded(request, exc)
    raise exc


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return message_page("服务器出现问题，请稍后重试。", 500)


def create_app(settings: Settings | None = None, *, demo: bool = False) -> Starlette:
    settings = settings or load()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop_debug.from_env()  # uvicorn on Python 3.11 turns PYTHONASYNCIODEBUG off
        engine = create_engine(settings.database_url)
        keys = Keys(settings.secret_key)
        holder: dict[str, Meetings] = {}

        async def on_reconnect() -> None:
            await holder["meetings"].refresh_all()

        bus: Bus = (
            RedisBus(settings.redis_url, settings.redis_prefix, on_reconnect)
            if settings.redis_url
            else MemoryBus()
        )
        gc_policy = GcPolicy()
        meetings = Meetings(engine, bus, keys, settings.public_url, settings.hall_code_seconds, gc_policy)
        holder["meetings"] = meetings
        await bus.start(meetings.on_bus)
        app.state.services = Services(settings, engine, bus, keys, meetings, login_throttle(), demo)
        gc_policy.startup()
        try:
            yield
        finally:
            gc_policy.stop()
            await app.state.services.card_files.close()
            await meetings.close()
            await bus.stop()
            await engine.dispose()

    app = Starlette(
        routes=routes(),
        lifespan=lifespan,
        middleware=[
            # First: everything after it sees the client's real address and scheme.
            Middleware(ForwardedHeaders, trusted=parse_trusted(settings.trusted_proxies)),
            Middleware(CaptureRawSend),
            Middleware(RequestLog),  # after both: the real client, and the socket's raw send kept
            Middleware(SecurityHeaders),
            Middleware(SecureCookies, public_url=settings.public_url),
            Middleware(StaffSessions),
            # Inside the sessions: a console's socket counts under its user, not its address.
            Middleware(ClientLimits, settings=settings),
        ],
        exception_handlers={
            404: not_found,
            NotRecorded: not_recorded,
            OperationalError: not_recorded,
            DBAPIError: database_error,
            500: server_error,
        },
    )
    index_routes(app.router)  # a phone's POST finds its route without scanning the table
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn --factory (several workers import it)."""
    return create_app()
