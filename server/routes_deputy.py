"""Deputies' phones: binding by invitation or card, check-in by hall QR, rating.

Binding proves who the deputy is (the personal card); the hall code proves the phone is
in the hall. WeChat keeps its own cookies, so a phone that scans the hall QR unbound
can bind right there with the card number and short code, and is checked in at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from live.commands import Actor, CheckIn, CheckInMethod, Command, Role
from live.refusals import Refused
from screens import messages as msg
from screens.view import View
from server.auth import same
from server.hub import Room
from server.meetings import Card
from server.parse import BadInput, parse_floor, parse_rating, parse_vote
from server.phone_auth import claim, phone_binding, phone_sid, signed_out
from server.phones import How
from server.runtime import NotRecorded
from server.store import MeetingNotFound
from server.web import (
    DEPUTY_COOKIE,
    csrf_ok,
    device,
    flash,
    form_of,
    message_page,
    page,
    services,
    set_cookie,
)

DEPUTY_COOKIE_AGE = 180 * 24 * 3600


async def _room(request: Request) -> Room | None:
    try:
        return await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return None


def _bind_page(
    request: Request, room: Room, status: int = 200, hall_code: str = "", error: str = ""
) -> Response:
    meeting_id = room.runtime.meeting_id
    if not error and signed_out(request, meeting_id):
        error = msg.edge("signed_out")
    title = room.runtime.state.setup.title
    return page("bind", status=status, meeting_id=meeting_id, hall_code=hall_code, error=error, title=title)


def _to_phone(text: str, status: int, meeting_id: int) -> Response:
    return message_page(text, status, back=f"/d/{meeting_id}", back_label="返回代表页面")


def _bind(response: Response, request: Request, card: Card, sid: str) -> None:
    cookie = services(request).keys.deputy_cookie(card.deputy_id, card.card_version, sid)
    set_cookie(response, DEPUTY_COOKIE, cookie, DEPUTY_COOKIE_AGE)


async def invitation(request: Request) -> Response:
    svc = services(request)
    meeting_id = int(request.path_params["meeting_id"])
    room = await _room(request)
    parsed = svc.keys.read_invitation(request.path_params["token"])
    card = svc.meetings.cards.get(parsed[0]) if parsed else None
    if room is None or parsed is None or card is None or card.card_version != parsed[1]:
        return message_page(msg.edge("bad_invitation"), 404)
    if card.body_id != svc.meetings.body_of.get(meeting_id):
        return message_page(msg.edge("bad_invitation"), 404)
    sid = phone_sid(request, card)
    if not await claim(request, meeting_id, card, How.LINK, sid):
        return _bind_page(request, room, 409, error=msg.edge("card_elsewhere"))
    response = RedirectResponse(f"/d/{meeting_id}", status_code=303)
    _bind(response, request, card, sid)
    return response


async def deputy_page(request: Request) -> Response:
    room = await _room(request)
    if room is None:
        return message_page(msg.edge("no_meeting"), 404)
    meeting_id = room.runtime.meeting_id
    binding = await phone_binding(request, meeting_id)
    if binding is None:
        return _bind_page(request, room)
    svc = services(request)
    async with room.runtime.lock:
        view = View(room.runtime.state)
        return page(
            "deputy",
            v=view,
            me=room.runtime.state.setup.deputies[binding.deputy_id],
            me_html=room.personal(view, binding.deputy_id, oob=False),
            csrf=svc.keys.csrf(binding.sid),
            oob=False,
        )


def _card_from_form(request: Request, meeting_id: int, form: dict[str, str]) -> Card | None:
    card = services(request).meetings.card_by_number(meeting_id, form.get("card_no", "").strip())
    code = form.get("short_code", "").strip()
    if card is None or not same(card.short_code, code):
        return None
    return card


async def bind(request: Request) -> Response:
    """Bind this phone with the card number and the short code printed on the card."""
    room = await _room(request)
    if room is None:
        return message_page(msg.edge("no_meeting"), 404)
    meeting_id = room.runtime.meeting_id
    form = await form_of(request) or {}
    card = _card_from_form(request, meeting_id, form)
    if card is None:
        return _bind_page(request, room, 400, error=msg.edge("bad_card"))
    sid = phone_sid(request, card)
    if not await claim(request, meeting_id, card, How.CARD, sid):
        return _bind_page(request, room, 409, error=msg.edge("card_elsewhere"))
    response = RedirectResponse(f"/d/{meeting_id}", status_code=303)
    _bind(response, request, card, sid)
    return response


def _hall_status(request: Request, meeting_id: int) -> str:
    svc = services(request)
    code = request.path_params["code"]
    return svc.keys.check_hall_code(meeting_id, code, time.time(), svc.settings.hall_code_seconds)


async def hall(request: Request) -> Response:
    """The page the hall QR opens: confirm check-in, or bind first if unbound."""
    room = await _room(request)
    if room is None:
        return message_page(msg.edge("no_meeting"), 404)
    meeting_id = room.runtime.meeting_id
    status = _hall_status(request, meeting_id)
    if status != "ok":
        return _to_phone(msg.edge(f"hall_code_{status}"), 410 if status == "expired" else 400, meeting_id)
    code = request.path_params["code"]
    binding = await phone_binding(request, meeting_id)
    title = room.runtime.state.setup.title
    if binding is None:
        return _bind_page(request, room, hall_code=code)
    deputy = room.runtime.state.setup.deputies[binding.deputy_id]
    csrf = services(request).keys.csrf(binding.sid)
    return page("hall", meeting_id=meeting_id, code=code, deputy=deputy, csrf=csrf, title=title)


async def hall_check_in(request: Request) -> Response:
    room = await _room(request)
    if room is None:
        return message_page(msg.edge("no_meeting"), 404)
    meeting_id = room.runtime.meeting_id
    status = _hall_status(request, meeting_id)
    if status != "ok":
        return _to_phone(msg.edge(f"hall_code_{status}"), 410 if status == "expired" else 400, meeting_id)
    form = await form_of(request)
    if form is None:
        return message_page(msg.edge("bad_request"), 400)
    binding = await phone_binding(request, meeting_id)
    card: Card | None = None
    sid = ""
    if binding is None or form.get("card_no"):
        card = _card_from_form(request, meeting_id, form)
        code = request.path_params["code"]
        if card is None:
            return _bind_page(request, room, 400, hall_code=code, error=msg.edge("bad_card"))
        sid = phone_sid(request, card)
        if not await claim(request, meeting_id, card, How.CARD, sid):
            return _bind_page(request, room, 409, hall_code=code, error=msg.edge("card_elsewhere"))
        deputy_id = card.deputy_id
    else:
        if not csrf_ok(request, binding.sid, form):
            return message_page(msg.edge("csrf"), 403)
        deputy_id = binding.deputy_id
    try:
        await room.runtime.submit(
            CheckIn(deputy_id, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, deputy_id), device(request)
        )
    except Refused as refusal:
        return _to_phone(msg.refusal(refusal.code), 409, meeting_id)
    except NotRecorded:
        return _to_phone(msg.edge("not_recorded"), 503, meeting_id)
    response = RedirectResponse(f"/d/{meeting_id}?checked_in=1", status_code=303)
    if card is not None:
        _bind(response, request, card, sid)
    return response


async def rate(request: Request) -> Response:
    return await _ballot(request, parse_rating)


async def vote(request: Request) -> Response:
    return await _ballot(request, parse_vote)


async def floor(request: Request) -> Response:
    """Ask for the floor or withdraw; answered, like a ballot, with the deputy's fragment."""
    return await _ballot(request, parse_floor)


async def _ballot(request: Request, parse: Callable[[dict[str, str], int], Command]) -> Response:
    """A rating, a vote or a request for the floor from the phone; the reply is the
    receipt (or the refusal), as the deputy's own fragment."""
    room = await _room(request)
    if room is None:
        return flash(msg.edge("no_meeting"), 404)
    meeting_id = room.runtime.meeting_id
    binding = await phone_binding(request, meeting_id)
    if binding is None:
        return flash(msg.edge("signed_out" if signed_out(request, meeting_id) else "not_bound"), 401)
    form = await form_of(request)
    if form is None:
        return flash(msg.edge("bad_request"), 400)
    if not csrf_ok(request, binding.sid, form):
        return flash(msg.edge("csrf"), 403)
    try:
        command = parse(form, binding.deputy_id)
    except BadInput as bad:
        return flash(msg.edge(bad.code, field=msg.field_name(bad.field)), 400)
    notice, status = "", 200
    try:
        await room.runtime.submit(command, Actor(Role.DEPUTY, binding.deputy_id), device(request))
    except Refused as refusal:
        notice, status = msg.refusal(refusal.code), 409
    except NotRecorded:
        notice, status = msg.edge("not_recorded"), 503
    async with room.runtime.lock:
        view = View(room.runtime.state)
        html = room.personal(view, binding.deputy_id, oob=False, notice=notice)
    return Response(html, status_code=status, media_type="text/html")
