"""Deputies' phones: binding by invitation or card, check-in by hall QR, rating.

Binding proves who the deputy is (the personal card); the hall code proves the phone is
in the hall. WeChat keeps its own cookies, so a phone that scans the hall QR unbound can
bind right there with the card number and short code, and is checked in at once. Typing
the code binds only a card with no phone, needs a valid hall code (and the hall network
when the meeting names one), and is guarded against guessing (server/storage/guards.py). The
invitation link moves a card from another phone only after the deputy confirms, and that
phone is told at once.
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
from server.base.days import clock_of_ms
from server.base.parse import BadInput, parse_floor, parse_rating, parse_vote
from server.base.presence import block_of, in_hall
from server.office import attendance_history
from server.room.hub import Room
from server.room.phonebook import Outcome
from server.room.runtime import NotRecorded
from server.storage import attendance
from server.storage.cards import Card
from server.storage.db import snapshot_read
from server.storage.phones import How
from server.storage.store import MeetingNotFound
from server.web.http import (
    DEPUTY_COOKIE,
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
HALL_GRANT_COOKIE = "wz_hall"  # server/base/keys.py Keys.hall_grant
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


async def _room_or_page(request: Request) -> Room | Response:
    room = await _room(request)
    return room if room is not None else message_page(msg.edge("no_meeting"), 404)


def _bind_page(
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


def _to_phone(text: str, status: int, meeting_id: int) -> Response:
    return message_page(text, status, back=f"/d/{meeting_id}", back_label="返回代表页面")


def _bind(response: Response, request: Request, card: Card, sid: str) -> None:
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
        return _to_phone(msg.edge("card_locked"), 423, meeting_id)
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
    _bind(response, request, card, sid)
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
        return _to_phone(msg.edge("csrf"), 403, meeting_id)
    sid = phone_sid(request, card)
    outcome = await claim(request, meeting_id, card, How.MOVE, sid)
    if outcome is Outcome.LOCKED:
        return _to_phone(msg.edge("card_locked"), 423, meeting_id)
    response = RedirectResponse(f"/d/{meeting_id}?moved=1", status_code=303)
    _bind(response, request, card, sid)
    return response


def _not_taking_part(room: Room, deputy_id: int) -> Response | None:
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
    room = await _room_or_page(request)
    if isinstance(room, Response):
        return room
    meeting_id = room.runtime.meeting_id
    binding = await phone_binding(request, meeting_id)
    if binding is None:
        return _bind_page(request, room)
    if (apart := _not_taking_part(room, binding.deputy_id)) is not None:
        return apart
    svc = services(request)
    async with snapshot_read(svc.engine) as conn:  # the two-absence rule's notice (代表法 §49)
        missed = await attendance_history.deputy_absences(conn, binding.deputy_id)
    async with room.runtime.lock:
        view = View(room.runtime.state)
        state = room.runtime.state
        return page(
            "deputy",
            v=view,
            missed=missed,
            may_ask_leave=not state.setup.rehearsal and state.attendance.get(binding.deputy_id) != "present",
            me=room.runtime.state.setup.deputies[binding.deputy_id],
            me_html=room.personal(view, binding.deputy_id, oob=False),
            csrf=svc.keys.csrf(binding.sid),
            oob=False,
            moved=request.query_params.get("moved") == "1",
        )


def _hall_status(request: Request, room: Room, code: str) -> str:
    """'ok' for a valid hall code or, once it has expired, for the grant of the browser
    that opened it within the meeting's grace; else 'grace_over', 'expired' or 'invalid'."""
    svc = services(request)
    meeting_id = room.runtime.meeting_id
    now = time.time()
    status = svc.keys.check_hall_code(meeting_id, code, now, svc.settings.hall_code_seconds)
    if status == "expired":
        age = svc.keys.hall_grant_age(meeting_id, request.cookies.get(HALL_GRANT_COOKIE), now)
        if age is not None:
            status = "ok" if age <= _grace_s(room) else "grace_over"
    return status


def _grace_s(room: Room) -> int:
    return room.runtime.state.setup.settings.checkin_grace_minutes * 60


def _presence_refused(request: Request, room: Room, status: str) -> Response | None:
    """A valid hall code (or this browser's grant), from the hall's network when the
    meeting names one."""
    meeting_id = room.runtime.meeting_id
    if status == "grace_over":
        minutes = str(room.runtime.state.setup.settings.checkin_grace_minutes)
        return _to_phone(msg.edge("hall_grace_over", minutes=minutes), 410, meeting_id)
    if status != "ok":
        return _to_phone(msg.edge(f"hall_code_{status}"), 410 if status == "expired" else 400, meeting_id)
    if not in_hall(address(request), room.runtime.state.setup.settings.hall_networks):
        return _to_phone(msg.edge("outside_hall"), 403, meeting_id)
    return None


def _checkin_over(room: Room) -> bool:
    state = room.runtime.state
    return state.closed or (state.checkin_ended and not state.checkin_open)


def _over_page(room: Room) -> Response:
    """A hall link opened, or a form sent, after check-in closed: who can still help."""
    meeting_id = room.runtime.meeting_id
    return message_page(
        msg.edge("checkin_over"), 409, title="签到已结束", back=f"/d/{meeting_id}", back_label="进入代表页面"
    )


async def _checked_in_page(request: Request, room: Room, deputy_id: int) -> Response:
    """A phone scanning again after its deputy checked in: 已签到, and when (China time)."""
    meeting_id = room.runtime.meeting_id
    async with snapshot_read(services(request).engine) as conn:
        at_ms = await attendance.checked_in_ms(conn, meeting_id, deputy_id)
    state = room.runtime.state
    return page(
        "hall",
        meeting_id=meeting_id,
        title=state.setup.title,
        deputy=state.setup.deputies[deputy_id],
        checked_in_at=clock_of_ms(at_ms) if at_ms else "",
        done=True,
    )


def _granted(response: Response, request: Request, room: Room) -> Response:
    """This browser opened a valid hall code: it may finish within the meeting's grace."""
    meeting_id = room.runtime.meeting_id
    grant = services(request).keys.hall_grant(meeting_id, time.time())
    set_cookie(response, HALL_GRANT_COOKIE, grant, _grace_s(room))
    return response


async def hall(request: Request) -> Response:
    """The page the hall QR opens: confirm check-in, or bind first if unbound; 已签到 when
    done, 签到已结束 once check-in closed (not 已过期: the code was right, the time is over)."""
    room = await _room_or_page(request)
    if isinstance(room, Response):
        return room
    meeting_id = room.runtime.meeting_id
    code = request.path_params["code"]
    status = _hall_status(request, room, code)
    if status == "invalid":
        return _to_phone(msg.edge("hall_code_invalid"), 400, meeting_id)
    binding = await phone_binding(request, meeting_id)
    if binding is not None and room.runtime.state.is_present(binding.deputy_id):
        return await _checked_in_page(request, room, binding.deputy_id)
    if _checkin_over(room):
        return _over_page(room)
    refused = _presence_refused(request, room, status)
    if refused is not None:
        return refused
    fresh = _code_fresh(request, meeting_id, code)
    title = room.runtime.state.setup.title
    if binding is None:
        shown = _bind_page(request, room, hall_code=code)
        return _granted(shown, request, room) if fresh else shown
    if (apart := _not_taking_part(room, binding.deputy_id)) is not None:
        return apart
    deputy = room.runtime.state.setup.deputies[binding.deputy_id]
    csrf = services(request).keys.csrf(binding.sid)
    confirm = page(
        "hall", meeting_id=meeting_id, code=code, deputy=deputy, csrf=csrf, title=title, done=False
    )
    return _granted(confirm, request, room) if fresh else confirm


def _code_fresh(request: Request, meeting_id: int, code: str) -> bool:
    """The code itself is valid now (not only this browser's grant): a grant is given."""
    svc = services(request)
    return svc.keys.check_hall_code(meeting_id, code, time.time(), svc.settings.hall_code_seconds) == "ok"


async def _typed(
    request: Request, room: Room, code: str, form: dict[str, str]
) -> tuple[Card, str] | Response:
    """Bind this phone by the card number and short code typed on it: the card and the
    phone's sid, or the page that says why not (the card number typed kept in the form,
    to be corrected or sent again). The caller has checked presence and that check-in is
    not over."""
    svc = services(request)
    meeting_id = room.runtime.meeting_id
    typed_no = form.get("card_no", "").strip()[:MAX_CODE_FIELD]

    def again(status: int, error: str) -> Response:
        return _bind_page(request, room, status, hall_code=code, error=error, card_no=typed_no)

    if not pre_ok(request, form):
        return again(403, msg.edge("csrf"))
    here = address(request)
    if svc.bind_throttle.blocked(here):
        return again(429, msg.edge("bind_throttled"))
    card = svc.meetings.card_by_number(meeting_id, typed_no)
    typed = "".join(form.get("short_code", "").split())[:MAX_CODE_FIELD]  # "1234 5678" as printed
    if card is None:
        svc.bind_throttle.failed(here)
        return again(400, msg.edge("bad_card"))
    sid = phone_sid(request, card)
    outcome, wait_ms = await svc.meetings.book.bind_by_code(
        card, typed, sid, meeting_id=meeting_id, address=here, device=device(request)
    )
    if outcome is Outcome.BOUND:
        return card, sid
    if outcome is Outcome.WRONG:
        svc.bind_throttle.failed(here)
        return again(400, msg.edge("bad_card"))
    if outcome is Outcome.WAIT:
        svc.bind_throttle.failed(here)
        return again(429, msg.edge("card_wait", wait=msg.wait_text(max(1, -(-wait_ms // 1000)))))
    if outcome is Outcome.LOCKED:  # no form: typing again cannot help
        return _bind_page(request, room, 423, error=msg.edge("card_locked"))
    return again(409, msg.edge("card_elsewhere"))


async def bind(request: Request) -> Response:
    """The bind form posted without the hall page's address: the hall code is a field."""
    room = await _room_or_page(request)
    if isinstance(room, Response):
        return room
    form = await form_of(request)
    if form is None:
        return message_page(msg.edge("bad_request"), 400)
    if not pre_ok(request, form):  # before anything else: a forged form learns nothing
        return _bind_page(request, room, 403, error=msg.edge("csrf"))
    code = form.get("hall", "")[: MAX_CODE_FIELD * 4]
    if not code:
        return _bind_page(request, room, 400, error=msg.edge("hall_code_needed"))
    return await _check_in(request, room, code, form)


async def hall_check_in(request: Request) -> Response:
    room = await _room_or_page(request)
    if isinstance(room, Response):
        return room
    form = await form_of(request)
    if form is None:
        return message_page(msg.edge("bad_request"), 400)
    return await _check_in(request, room, request.path_params["code"], form)


async def _check_in(request: Request, room: Room, code: str, form: dict[str, str]) -> Response:
    meeting_id = room.runtime.meeting_id
    status = _hall_status(request, room, code)
    binding = await phone_binding(request, meeting_id)
    if status != "invalid" and _checkin_over(room):
        # Before binding: a check-in that cannot succeed binds no card either.
        if binding is not None and room.runtime.state.is_present(binding.deputy_id):
            return await _checked_in_page(request, room, binding.deputy_id)
        return _over_page(room)
    refused = _presence_refused(request, room, status)
    if refused is not None:
        return refused
    typed: tuple[Card, str] | None = None
    if binding is None or form.get("card_no"):
        found = await _typed(request, room, code, form)
        if isinstance(found, Response):
            return found
        typed = found
        deputy_id = found[0].deputy_id
    else:
        if not csrf_ok(request, binding.sid, form):
            return message_page(msg.edge("csrf"), 403)
        deputy_id = binding.deputy_id
    command = CheckIn(deputy_id, CheckInMethod.HALL_QR, block_of(address(request)))
    try:
        await room.runtime.submit(command, Actor(Role.DEPUTY, deputy_id), device(request))
    except Refused as refusal:
        response: Response = _to_phone(msg.refusal(refusal.code), 409, meeting_id)
    except NotRecorded:
        response = _to_phone(msg.edge("not_recorded"), 503, meeting_id)
    else:
        response = RedirectResponse(f"/d/{meeting_id}?checked_in=1", status_code=303)
    if typed is not None:  # bound even if the check-in itself was refused (a suspended deputy's
        _bind(response, request, *typed)  # phone is told why on the deputy page)
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


async def whoami(request: Request) -> Response:
    """The address this server sees for the phone: how staff find the hall's network
    (connect a phone to the hall Wi-Fi and open this page)."""
    here = address(request)
    return page("whoami", address=here, block=block_of(here))
