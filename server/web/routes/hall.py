"""The hall QR: check-in by the code the projector shows, binding first if the phone is not.

The hall code proves the phone is in the hall; a browser that opened a valid code may
finish within the meeting's grace (``wz_hall``, Keys.hall_grant) whatever the projector
shows by then, so an elderly deputy who types slowly is not sent back to it. A second
scan says 已签到 and when; a code opened or a form sent after check-in closed says
签到已结束 and binds no card. Typing the card number and short code is guarded against
guessing (server/storage/guards.py); a refused form keeps the card number typed.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from live.commands import Actor, CheckIn, CheckInMethod, Role
from live.refusals import Refused
from screens import messages as msg
from screens.audiences import checked_in_clock
from server.base.presence import block_of, in_hall
from server.room.hub import Room
from server.room.phonebook import Outcome
from server.room.runtime import NotRecorded
from server.storage.cards import Card
from server.web.http import (
    address,
    csrf_ok,
    device,
    form_of,
    message_page,
    page,
    pre_ok,
    services,
    set_cookie,
)
from server.web.phone_auth import phone_binding, phone_sid
from server.web.routes.deputy import (
    MAX_CODE_FIELD,
    bind_card,
    bind_page,
    not_taking_part,
    phone_page,
    room_or_page,
    to_phone,
)

HALL_GRANT_COOKIE = "wz_hall"  # server/base/keys.py Keys.hall_grant


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
        return to_phone(msg.edge("hall_grace_over", minutes=minutes), 410, meeting_id)
    if status != "ok":
        return to_phone(msg.edge(f"hall_code_{status}"), 410 if status == "expired" else 400, meeting_id)
    if not in_hall(address(request), room.runtime.state.setup.settings.hall_networks):
        return to_phone(msg.edge("outside_hall"), 403, meeting_id)
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


def _checked_in_page(room: Room, deputy_id: int) -> Response:
    """A phone scanning again after its deputy checked in: 已签到, and when (China time)."""
    state = room.runtime.state  # the time is in the meeting's state: the phone shows the same
    return page(
        "hall",
        meeting_id=room.runtime.meeting_id,
        title=state.setup.title,
        deputy=state.setup.deputies[deputy_id],
        checked_in_at=checked_in_clock(state, deputy_id),
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
    room = await room_or_page(request)
    if isinstance(room, Response):
        return room
    meeting_id = room.runtime.meeting_id
    code = request.path_params["code"]
    status = _hall_status(request, room, code)
    if status == "invalid":
        return to_phone(msg.edge("hall_code_invalid"), 400, meeting_id)
    binding = await phone_binding(request, meeting_id)
    if binding is not None and room.runtime.state.is_present(binding.deputy_id):
        return _checked_in_page(room, binding.deputy_id)
    if _checkin_over(room):
        return _over_page(room)
    refused = _presence_refused(request, room, status)
    if refused is not None:
        return refused
    fresh = _code_fresh(request, meeting_id, code)
    title = room.runtime.state.setup.title
    if binding is None:
        shown = bind_page(request, room, hall_code=code)
        return _granted(shown, request, room) if fresh else shown
    if (apart := not_taking_part(room, binding.deputy_id)) is not None:
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
        return bind_page(request, room, status, hall_code=code, error=error, card_no=typed_no)

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
        return bind_page(request, room, 423, error=msg.edge("card_locked"))
    return again(409, msg.edge("card_elsewhere"))


async def _room_and_form(request: Request) -> tuple[Room, dict[str, str]] | Response:
    room = await room_or_page(request)
    if isinstance(room, Response):
        return room
    form = await form_of(request)
    return (room, form) if form is not None else message_page(msg.edge("bad_request"), 400)


async def bind(request: Request) -> Response:
    """The bind form posted without the hall page's address: the hall code is a field."""
    posted = await _room_and_form(request)
    if isinstance(posted, Response):
        return posted
    room, form = posted
    if not pre_ok(request, form):  # before anything else: a forged form learns nothing
        return bind_page(request, room, 403, error=msg.edge("csrf"))
    code = form.get("hall", "")[: MAX_CODE_FIELD * 4]
    if not code:
        return bind_page(request, room, 400, error=msg.edge("hall_code_needed"))
    return await _check_in(request, room, code, form)


async def hall_check_in(request: Request) -> Response:
    posted = await _room_and_form(request)
    if isinstance(posted, Response):
        return posted
    room, form = posted
    return await _check_in(request, room, request.path_params["code"], form)


async def _check_in(request: Request, room: Room, code: str, form: dict[str, str]) -> Response:
    meeting_id = room.runtime.meeting_id
    status = _hall_status(request, room, code)
    binding = await phone_binding(request, meeting_id)
    if status != "invalid" and _checkin_over(room):
        # Before binding: a check-in that cannot succeed binds no card either.
        if binding is not None and room.runtime.state.is_present(binding.deputy_id):
            return _checked_in_page(room, binding.deputy_id)
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
        response: Response = to_phone(msg.refusal(refusal.code), 409, meeting_id)
    except NotRecorded:
        response = to_phone(msg.edge("not_recorded"), 503, meeting_id)
    else:
        receipt = f"/d/{meeting_id}?checked_in=1"
        if typed is None and binding is not None:
            # A phone already bound gets its page at once, not a 303 to it: one round
            # trip fewer on the hall's Wi-Fi (the page takes the receipt's address).
            return await phone_page(request, room, binding, url=receipt)
        # A card typed just now: its cookie is set on this response, so the page that
        # reads it is the next request.
        response = RedirectResponse(receipt, status_code=303)
    if typed is not None:  # bound even if the check-in itself was refused (a suspended deputy's
        bind_card(response, request, *typed)  # phone is told why on the deputy page)
    return response
