"""The paired screens: the projector (it shows the hall QR), the podium timer, the chair's script.

Both are paired by staff with a one-time code: an unpaired browser gets a six-digit code
and refreshes itself every few seconds; once staff enter the code on the console, the
next refresh gives it a screen cookie for that meeting and that kind of screen only.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from screens.view import View
from server.base.days import epoch_ms
from server.office import pairing
from server.storage.store import MeetingNotFound
from server.web.http import (
    PAIR_COOKIE,
    SCREEN_COOKIE,
    address,
    here,
    message_page,
    page,
    services,
    set_cookie,
)

SCREEN_COOKIE_AGE = 7 * 24 * 3600
# Too many new pairing requests from one address (server/web/throttle.py pair_throttle).
PAIR_FLOOD = "这个网络申请配对码过于频繁，请稍等几分钟再打开此页面。"


async def projector(request: Request) -> Response:
    return await screen_page(request, "projector")


async def podium(request: Request) -> Response:
    return await screen_page(request, "podium")


async def public(request: Request) -> Response:
    """The read-only page for anyone: no login, no pairing, never the hall QR."""
    try:
        room = await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return message_page(msg.edge("no_meeting"), 404)
    # The body's public follow-up page (routes/followup_public.py): what became of questions.
    body_id = services(request).meetings.body_of.get(room.runtime.state.setup.meeting_id)
    async with room.runtime.lock:
        return page("public", v=View(room.runtime.state), oob=False, body_id=body_id)


async def screen_page(request: Request, kind: str) -> Response:
    svc = services(request)
    meeting_id = int(request.path_params["meeting_id"])
    try:
        room = await svc.meetings.room(meeting_id)
    except MeetingNotFound:
        return message_page(msg.edge("no_meeting"), 404)
    preset = request.query_params.get("screen")
    if preset:  # a pre-paired link, printed by `wenzheng serve --demo` only
        binding = svc.keys.read_screen(preset)
        if binding and binding.meeting_id == meeting_id and binding.kind == kind:
            response = RedirectResponse(request.url.path, status_code=303)
            set_cookie(response, SCREEN_COOKIE, preset, SCREEN_COOKIE_AGE)
            return response
    binding = svc.keys.read_screen(request.cookies.get(SCREEN_COOKIE))
    if binding is None or binding.meeting_id != meeting_id or binding.kind != kind:
        return await _pairing(request, meeting_id, kind)
    async with room.runtime.lock:
        view = room.projector_view() if kind == "projector" else room.view()
        extras = svc.meetings.extras("stage", view) if kind == "projector" else {}
        return page(kind, v=view, oob=False, **extras)


async def _pairing(request: Request, meeting_id: int, kind: str) -> Response:
    svc = services(request)
    origin = address(request)
    token = request.cookies.get(PAIR_COOKIE, "")
    new = not svc.pair_throttle.blocked(origin)
    async with svc.engine.begin() as conn:
        asked = await pairing.ask(conn, meeting_id, kind, token, epoch_ms(), new=new)
    if asked is None:
        return message_page(PAIR_FLOOD, 429)
    if asked.token != token:  # a new request: counted against its address
        svc.pair_throttle.failed(origin)
    if asked.approved:
        response = RedirectResponse(request.url.path, status_code=303)
        set_cookie(response, SCREEN_COOKIE, svc.keys.screen_cookie(meeting_id, kind), SCREEN_COOKIE_AGE)
        response.delete_cookie(PAIR_COOKIE, path="/")
        return response
    # The script may also be read by staff logged in: say so, where the code is shown.
    login = f"/login?next={quote(here(request))}" if kind == "script" else ""
    template = "script_pairing" if kind == "script" else "pairing"
    shown = page(template, code=asked.code, kind=pairing.SCREEN_NAMES[kind], login=login)
    set_cookie(shown, PAIR_COOKIE, asked.token, pairing.PAIRING_TTL_MS // 1000)
    return shown
