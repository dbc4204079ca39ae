"""Deputies' phones: binding by invitation or card, the deputy page, rating and voting.

Binding proves who the deputy is (the personal card). WeChat keeps its own cookies, so a
phone that scans the hall QR unbound binds right there (server/web/routes/hall.py, which
shares this module's binding helpers). The invitation link moves a card from another
phone only after the deputy confirms, and that phone is told at once.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from live.commands import Actor, Command, Role
from live.refusals import Refused
from screens import messages as msg
from server.base.keys import DeputyBinding
from server.base.parse import BadInput, parse_floor, parse_rating, parse_vote
from server.base.presence import block_of
from server.office import attendance_history
from server.room.hub import Room
from server.room.phonebook import Outcome
from server.room.runtime import NotRecorded
from server.storage.cards import Card
from server.storage.db import snapshot_read
from server.storage.phones import How
from server.storage.store import MeetingNotFound
from server.web.http import (
    DEPUTY_COOKIE,
    Services,
    address,
    csrf_ok,
    device,
    flash,
    form_of,
    message_page,
    page,
    pre_ok,
    pre_token,
    services,
    set_cookie,
    set_pre_cookie,
)
from server.web.phone_auth import claim, phone_binding, phone_sid, signed_out

DEPUTY_COOKIE_AGE = 180 * 24 * 3600
MAX_CODE_FIELD = 32
# A bound phone whose deputy is not a member on the meeting's day (a mandate ended, or a
# by-election from a later day), or is suspended that day (Setup.deputies / suspended).
NOT_MEMBER = "您在本次会议日期不是本机构代表，无法签到或表决。如有疑问请联系会务人员。"
SUSPENDED = "您目前暂停执行代表职务，本次会议不能签到、测评或表决。"


async def _room(request: Request) -> Room | None:
    try:
        return await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return None


async def room_or_page(request: Request) -> Room | Response:
    room = await _room(request)
    return room if room is not None else message_page(msg.edge("no_meeting"), 404)


def bind_page(
    request: Request, room: Room, status: int = 200, hall_code: str = "", error: str = "", card_no: str = ""
) -> Response:
    """The page of an unbound phone: scan the card's QR code; in the hall (a hall code),
    or type the card number and short code."""
    meeting_id = room.runtime.meeting_id
    if not error and signed_out(request, meeting_id):
        error = msg.edge("signed_out")
    token = pre_token(request)
    title = room.runtime.state.setup.title
    response = page(
        "bind",
        status=status,
        meeting_id=meeting_id,
        hall_code=hall_code,
        error=error,
        title=title,
        pre=token,
        card_no=card_no,  # a refused form keeps the card number typed (never the code)
        grace=room.runtime.state.setup.settings.checkin_grace_minutes,
    )
    set_pre_cookie(response, token)
    return response


def to_phone(text: str, status: int, meeting_id: int) -> Response:
    return message_page(text, status, back=f"/d/{meeting_id}", back_label="返回代表页面")


def bind_card(response: Response, request: Request, card: Card, sid: str) -> None:
    cookie = services(request).keys.deputy_cookie(card.deputy_id, card.card_version, sid)
    set_cookie(response, DEPUTY_COOKIE, cookie, DEPUTY_COOKIE_AGE)


def _invited_card(request: Request, meeting_id: int) -> Card | None:
    svc = services(request)
    parsed = svc.keys.read_invitation(request.path_params["token"])
    card = svc.meetings.cards.get(parsed[0]) if parsed else None
    if parsed is None or card is None or card.card_version != parsed[1]:
        return None
    return card if card.body_id == svc.meetings.body_of.get(meeting_id) else None


async def invitation(request: Request) -> Response:
    """The card's QR code: binds a card with no phone at once; a card another phone
    holds moves here only once the deputy confirms (POST, :func:`invitation_move`)."""
    room = await _room(request)
    card = _invited_card(request, room.runtime.meeting_id) if room else None
    if room is None or card is None:
        return message_page(msg.edge("bad_invitation"), 404)
    meeting_id = room.runtime.meeting_id
    sid = phone_sid(request, card)
    outcome = await claim(request, meeting_id, card, How.LINK, sid)
    if outcome is Outcome.LOCKED:
        return to_phone(msg.edge("card_locked"), 423, meeting_id)
    if outcome is Outcome.ELSEWHERE:
        token = pre_token(request)
        confirm = page(
            "invitation_move",
            status=409,
            meeting_id=meeting_id,
            title=room.runtime.state.setup.title,
            action=request.url.path,
            pre=token,
        )
        set_pre_cookie(confirm, token)
        return confirm
    response = RedirectResponse(f"/d/{meeting_id}", status_code=303)
    bind_card(response, request, card, sid)
    return response


async def invitation_move(request: Request) -> Response:
    """The deputy confirmed: the card moves to this phone; the phone before is told."""
    room = await _room(request)
    card = _invited_card(request, room.runtime.meeting_id) if room else None
    if room is None or card is None:
        return message_page(msg.edge("bad_invitation"), 404)
    meeting_id = room.runtime.meeting_id
    form = await form_of(request)
    if form is None or not pre_ok(request, form):
        return to_phone(msg.edge("csrf"), 403, meeting_id)
    sid = phone_sid(request, card)
    outcome = await claim(request, meeting_id, card, How.MOVE, sid)
    if outcome is Outcome.LOCKED:
        return to_phone(msg.edge("card_locked"), 423, meeting_id)
    response = RedirectResponse(f"/d/{meeting_id}?moved=1", status_code=303)
    bind_card(response, request, card, sid)
    return response


def not_taking_part(room: Room, deputy_id: int) -> Response | None:
    """The page that says why this deputy takes no part in this meeting, or None."""
    setup = room.runtime.state.setup
    text = (
        NOT_MEMBER if deputy_id not in setup.deputies else SUSPENDED if deputy_id in setup.suspended else ""
    )
    if not text:
        return None
    meeting_id = room.runtime.meeting_id
    return message_page(text, 403, title=setup.title, back=f"/d/{meeting_id}", back_label="刷新页面")


async def deputy_page(request: Request) -> Response:
    room = await room_or_page(request)
    if isinstance(room, Response):
        return room
    meeting_id = room.runtime.meeting_id
    binding = await phone_binding(request, meeting_id)
    if binding is None:
        return bind_page(request, room)
    if (apart := not_taking_part(room, binding.deputy_id)) is not None:
        return apart
    return await phone_page(request, room, binding)


async def phone_page(request: Request, room: Room, binding: DeputyBinding, *, url: str = "") -> Response:
    """The deputy's page. ``url``: the address the phone shows for it (the check-in POST
    answers with this page, and the page puts that address in place of the POST's, so a
    reload asks for the page, not the check-in again)."""
    svc = services(request)
    missed = await absences(svc, binding.deputy_id)  # the two-absence rule's notice (代表法 §49)
    async with room.runtime.lock:
        view = room.view()  # shared by every page load and receipt at this seq
        return page(
            "deputy",
            v=view,
            missed=missed,
            me=room.runtime.state.setup.deputies[binding.deputy_id],
            me_html=room.personal(view, binding.deputy_id, oob=False),
            csrf=svc.keys.csrf(binding.sid),
            oob=False,
            moved=request.query_params.get("moved") == "1",
            replace_url=url,
        )


async def absences(svc: Services, deputy_id: int) -> list[str]:
    """The sessions the deputy missed without approval, read once per records generation."""

    async def read() -> list[str]:
        async with snapshot_read(svc.engine) as conn:
            return await attendance_history.deputy_absences(conn, deputy_id)

    return await svc.absences.get(deputy_id, lambda: svc.meetings.records_generation, read)


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
        html = room.personal(room.view(), binding.deputy_id, oob=False, notice=notice)
    return Response(html, status_code=status, media_type="text/html")


async def whoami(request: Request) -> Response:
    """The address this server sees for the phone: how staff find the hall's network
    (connect a phone to the hall Wi-Fi and open this page)."""
    here = address(request)
    return page("whoami", address=here, block=block_of(here))
