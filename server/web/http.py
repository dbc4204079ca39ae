"""Helpers shared by the route modules: services, replies, CSRF, the device string,
cookies (Secure on https) and the websocket's Origin check."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from screens import messages as msg
from screens import render
from server.base.keys import Keys, StaffSession, same
from server.base.settings import Settings
from server.office import accounts
from server.office.card_files import CardFiles
from server.office.followup_public import PublicBoard
from server.office.workshop import Workshop
from server.room.bus import Bus
from server.room.meetings import Meetings
from server.web.absences import AbsenceCache
from server.web.throttle import Throttle, bind_throttle, pair_throttle
from server.web.ttl_cache import TtlCache

STAFF_COOKIE = "wz_user"
DEPUTY_COOKIE = "wz_deputy"
SCREEN_COOKIE = "wz_screen"
PAIR_COOKIE = "wz_pair"
# A random token for the forms a phone fills in before it has a session (typing a card's
# code, moving a card to this phone): the form must carry the cookie's own value.
PRE_COOKIE = "wz_pre"
PRE_COOKIE_AGE = 24 * 3600
STAFF_SCOPE_KEY = "wenzheng.staff"  # set by server.web.sessions.StaffSessions
CONSOLE_ROLES = frozenset({"chair", "staff", "admin"})  # any of them opens the console
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_FORM_FIELD = 2000
MAX_FIELDS = 50
MAX_FORM_BYTES = 64 * 1024
# Follow-up posts holding their attachments in memory at once (server/web/routes/post_files.py).
ATTACH_TURNS = 2
# Closed meetings' charts kept (server/web/routes/charts.py): about 10-90 KB each.
CHART_SECONDS, CHART_LIMIT = 6 * 3600.0, 64


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    bus: Bus
    keys: Keys
    meetings: Meetings
    throttle: Throttle
    demo: bool = False
    bind_throttle: Throttle = field(default_factory=bind_throttle)  # typed card codes
    # New screen pairing requests per address (probe, server/web/routes/screen.py).
    pair_throttle: Throttle = field(default_factory=pair_throttle)
    # The office's heavy work (QR codes, DOCX, XLSX, uploads) runs here, never on the loop.
    workshop: Workshop = field(default_factory=Workshop)
    card_files: CardFiles = field(init=False)  # QR codes kept per card version; DOCX jobs
    # Each body's public follow-up page, read at most every 30 s (routes/followup_public.py).
    public_followup: TtlCache[PublicBoard] = field(default_factory=TtlCache)
    # Turns to hold a post's files in memory (routes/post_files.py ``posted``).
    attachment_turns: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(ATTACH_TURNS))
    # Charts (SVG) of closed meetings, which never change (routes/charts.py): a few dozen kept.
    charts: TtlCache[bytes] = field(default_factory=lambda: TtlCache(ttl=CHART_SECONDS, limit=CHART_LIMIT))
    # Each deputy's two-absence notice on the phone, until the records change (web/absences.py).
    absences: AbsenceCache = field(default_factory=AbsenceCache)

    def __post_init__(self) -> None:
        self.card_files = CardFiles(self.workshop)


def services(conn: HTTPConnection) -> Services:
    s: Services = conn.app.state.services
    return s


def address(conn: HTTPConnection) -> str:
    """The client's address (behind a trusted proxy, the one it forwarded: server/web/proxy.py)."""
    return conn.client.host if conn.client else "?"


def device(conn: HTTPConnection) -> str:
    return f"{address(conn)} {conn.headers.get('user-agent', '')}"[:200]


def pre_token(conn: HTTPConnection) -> str:
    """The phone's pre-session token: its cookie's, or a new one (set it with
    :func:`set_pre_cookie` on the page that shows the form)."""
    token = conn.cookies.get(PRE_COOKIE, "")
    return token if len(token) == 32 and token.isalnum() else secrets.token_hex(16)


def set_pre_cookie(response: Response, token: str) -> None:
    set_cookie(response, PRE_COOKIE, token, PRE_COOKIE_AGE)


def pre_ok(conn: HTTPConnection, form: dict[str, str]) -> bool:
    """A form sent before there is a session: the cookie's token, from our own page."""
    cookie = conn.cookies.get(PRE_COOKIE, "")
    return bool(cookie) and same(cookie, form.get("pre", "")) and same_origin(conn)


def flash(text: str, status: int = 400, *, kind: str = "error") -> HTMLResponse:
    return HTMLResponse(render.page("flash", text=text, kind=kind), status_code=status)


def message_page(
    text: str, status: int = 400, title: str = "提示", back: str = "/", back_label: str = "返回首页"
) -> HTMLResponse:
    page_html = render.page("message", title=title, text=text, back=back, back_label=back_label)
    return HTMLResponse(page_html, status_code=status)


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render.page(name, **context), status_code=status)


def staff(request: HTTPConnection) -> StaffSession | None:
    """The request's staff session with the roles the users table gives now."""
    session: StaffSession | None = request.scope.get(STAFF_SCOPE_KEY)
    return session


async def form_of(
    request: Request,
    max_fields: int = MAX_FIELDS,
    max_bytes: int = MAX_FORM_BYTES,
    max_field: int = MAX_FORM_FIELD,
) -> dict[str, str] | None:
    """The form as plain strings; None when it is malformed or oversized.

    URL-encoded forms (every form and htmx request we serve) are parsed here directly:
    in a rating burst the general multipart machinery was a visible share of the
    request path. A staff form with a row per deputy (the import's 名册中未出现 choices)
    asks for more fields.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("", "application/x-www-form-urlencoded"):
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                return None
        try:
            pairs = parse_qsl(
                body.decode(), keep_blank_values=True, strict_parsing=False, max_num_fields=max_fields
            )
        except (UnicodeDecodeError, ValueError):
            return None
        out = dict(pairs)
    else:
        try:
            form = await request.form(max_files=0, max_fields=max_fields)
        except Exception:
            return None
        out = {}
        for key, value in form.items():
            if not isinstance(value, str):
                return None
            out[key] = value
    if any(len(v) > max_field for v in out.values()):
        return None
    return out


def csrf_ok(request: Request, sid: str, form: dict[str, str] | None) -> bool:
    token = request.headers.get("x-csrf-token") or (form or {}).get("csrf")
    return services(request).keys.check_csrf(sid, token)


def refused(code: str, status: int = 409, params: dict[str, object] | None = None) -> Response:
    return flash(msg.refusal(code, params), status)


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Lax; :class:`SecureCookies` adds Secure when we are on https."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/")


def clear_cookie(response: Response, name: str) -> None:
    """Tell the browser to drop a cookie of :func:`set_cookie` (same attributes)."""
    response.delete_cookie(name, httponly=True, samesite="lax", path="/")


class SecureCookies:
    """Every cookie the app sets gets ``Secure`` when the public address is https or the
    request itself came over https: a cookie set on https must never travel over plain
    http (a hall Wi-Fi, a captive portal that tries http first).

    It rewrites the ``Set-Cookie`` headers on the way out, so a cookie set anywhere
    (``set_cookie``, ``delete_cookie``, a route added later) is covered. The scheme is
    the scope's: a trusted proxy's middleware outside this one may have set it.
    """

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        self.https = public_url.lower().startswith("https://")

    # A plain function returning the next app's coroutine: no frame of its own held for
    # the hours a phone's socket lives (server/web/lean_protocols.py, issue 20).
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http" or not (self.https or scope.get("scheme") == "https"):
            return self.app(scope, receive, send)
        return self._secure(scope, receive, send)

    async def _secure(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, _secure(v) if k.lower() == b"set-cookie" else v) for k, v in message["headers"]
                ]
            await send(message)

        await self.app(scope, receive, send_secure)


def _secure(cookie: bytes) -> bytes:
    attributes = [a.strip().lower() for a in cookie.split(b";")[1:]]
    return cookie if b"secure" in attributes else cookie + b"; Secure"


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` in one spelling (lower case, no default port), or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def same_origin(conn: HTTPConnection) -> bool:
    """Whether a websocket handshake may go on: it has no ``Origin`` (not a browser:
    browsers always send one), or the origin is ours, the public address
    (``WENZHENG_PUBLIC_URL``) or the host the request came to.

    A page of another site cannot read our pages, but a browser lets it open a websocket
    to us and sends our cookies along when the two are same-site (a sibling subdomain) or
    the browser predates SameSite: without this check such a page could watch the
    console. The host is accepted with either scheme, because behind a TLS-terminating
    proxy the request arrives as plain ws while the page's origin is https; a page served
    over http from our own host is no other site's.
    """
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    ours = {_origin(services(conn).settings.public_url)}
    host = conn.headers.get("host", "")
    if host:
        ours |= {_origin(f"{scheme}://{host}") for scheme in DEFAULT_PORTS}
    ours.discard(None)
    return _origin(origin) in ours


async def staff_form(request: Request, session: StaffSession) -> dict[str, str] | Response:
    """The form of a staff page, read and CSRF-checked, or the page that says why not."""
    form = await form_of(request)
    if form is None:
        return message_page(msg.edge("bad_request"), 400)
    if not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    return form


def require_staff(request: Request) -> StaffSession | Response:
    """The staff session of a console page, or where to send the browser instead: the
    login page, or the password page while a one-time password is unchanged."""
    session = staff(request)
    if session is not None and accounts.MUST_CHANGE in session.roles:
        return RedirectResponse(f"/account/password?next={quote(here(request))}", status_code=303)
    if session is None or not (session.roles & CONSOLE_ROLES):
        return RedirectResponse(f"/login?next={quote(here(request))}", status_code=303)
    return session


def here(request: Request) -> str:
    """The page asked for, path and query, to come back to after logging in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
