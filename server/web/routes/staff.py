"""Staff and chair: login, the chair console, actions, manual check-in, pairing."""

from __future__ import annotations

import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from live.commands import Actor, Role
from live.refusals import Refused
from screens import console_done
from screens import messages as msg
from screens.view import View
from server.base import parse
from server.base.keys import SESSION_MAX_AGE, StaffSession
from server.base.parse import BadInput, parse_action
from server.base.redirects import local_target
from server.office import accounts, member_changes, pairing
from server.room.runtime import NotRecorded
from server.storage.store import MeetingNotFound
from server.web.http import (
    CONSOLE_ROLES,
    MAX_FORM_FIELD,
    STAFF_COOKIE,
    clear_cookie,
    csrf_ok,
    device,
    flash,
    form_of,
    message_page,
    page,
    refused,
    require_staff,
    services,
    set_cookie,
    staff,
)
from server.web.throttle import LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS


def _actor(session: StaffSession) -> Actor:
    role = Role.CHAIR if "chair" in session.roles else Role.STAFF
    return Actor(role, user=session.username)


async def login_form(request: Request) -> Response:
    return page("login", next=local_target(request.query_params.get("next")), error="")


async def login(request: Request) -> Response:
    svc = services(request)
    form = await form_of(request) or {}
    username = parse.text(form.get("username"), MAX_FORM_FIELD)
    if username is None:  # a control character: no account has one (PostgreSQL refuses NUL)
        return page("login", status=400, next="/", error=msg.edge("bad_request"))
    username = username[:64]
    target = local_target(form.get("next"))
    # The client address as the rest of the app reads it (a trusted proxy's middleware
    # may have put the real one there). Failures count per address and name, and per
    # address whatever the name; a success forgets only its own name's failures.
    host = request.client.host if request.client else "?"
    by_name, by_address = f"name:{host}:{username}", f"address:{host}"
    for key, limit, text in (
        (by_address, LOGIN_MAX_FAILURES_PER_ADDRESS, "login_throttled_address"),
        (by_name, LOGIN_MAX_FAILURES, "login_throttled"),
    ):
        if svc.throttle.blocked(key, limit):
            refusal = page("login", status=429, next=target, error=msg.edge(text))
            refusal.headers["retry-after"] = str(svc.throttle.retry_after(key))
            return refusal
    account = await accounts.check_login(svc.engine, username, form.get("password", ""))
    if account is None:
        svc.throttle.failed(by_name)
        svc.throttle.failed(by_address)
        return page("login", status=401, next=target, error=msg.edge("login_failed"))
    svc.throttle.succeeded(by_name)
    if account.must_change:  # a one-time password: nothing opens before it is changed
        target = f"/account/password?next={quote(target)}"
    async with svc.engine.begin() as conn:
        sid = await accounts.open_session(conn, account.id, device(request))
    response = RedirectResponse(target, status_code=303)
    cookie = svc.keys.staff_cookie(account.id, account.username, accounts.session_roles(account), sid)
    set_cookie(response, STAFF_COOKIE, cookie, SESSION_MAX_AGE)
    return response


async def logout(request: Request) -> Response:
    """Ends the session on the server: its cookie opens nothing any more, anywhere."""
    session = staff(request)
    if session is not None:
        if not csrf_ok(request, session.sid, await form_of(request)):
            return message_page(msg.edge("csrf"), 403)
        async with services(request).engine.begin() as conn:
            await accounts.end_session(conn, session.sid)
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, STAFF_COOKIE)
    return response


async def console(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    try:
        room = await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return message_page(msg.edge("no_meeting"), 404)
    async with services(request).engine.connect() as conn:  # who joined or left since the last meeting
        since = await member_changes.since_previous(conn, room.runtime.meeting_id)
        await conn.commit()
    async with room.runtime.lock:
        view = View(room.runtime.state)
        return page(
            "console",
            v=view,
            user=session,
            csrf=services(request).keys.csrf(session.sid),
            oob=False,
            since=since.text() if since else "",
        )


async def act(request: Request) -> Response:
    session = staff(request)
    if session is None or not (session.roles & CONSOLE_ROLES):
        return flash(msg.edge("login_required"), 401)
    form = await form_of(request)
    if form is None:
        return flash(msg.edge("bad_request"), 400)
    if not csrf_ok(request, session.sid, form):
        return flash(msg.edge("csrf"), 403)
    meeting_id = int(request.path_params["meeting_id"])
    for card_field, id_field, label in (
        ("speaker_card", "speaker_id", "追问代表卡号"),  # a follow-up speaker, by card number
        ("deputy_card", "deputy_id", "代表卡号"),  # a deputy added to the speaker queue by hand
    ):
        card_no = form.pop(card_field, "").strip()
        if card_no:
            card = services(request).meetings.card_by_number(meeting_id, card_no)
            if card is None:
                return flash(msg.edge("bad_field", field=label), 400)
            form[id_field] = str(card.deputy_id)
    if form.pop("revote_current", "") == "1":  # the console's counted round "of the vote just closed"
        try:
            vote_id = (await services(request).meetings.room(meeting_id)).runtime.state.vote_id
        except MeetingNotFound:
            return flash(msg.edge("no_meeting"), 404)
        if vote_id is None:
            return refused("no_vote")
        form["revote_of"] = str(vote_id)
    try:
        command = parse_action(form)
    except BadInput as bad:
        return flash(
            msg.edge(bad.code, field=msg.field_name(bad.field)) if bad.field else msg.edge(bad.code), 400
        )
    try:
        room = await services(request).meetings.room(meeting_id)
        await room.runtime.submit(command, _actor(session), device(request))
    except MeetingNotFound:
        return flash(msg.edge("no_meeting"), 404)
    except Refused as refusal:
        return refused(refusal.code, params=refusal.params)
    except NotRecorded:
        return flash(msg.edge("not_recorded"), 503)
    # The operator sees that the click worked, and for whom when it was one deputy's.
    who = room.runtime.state.setup.deputies.get(getattr(command, "deputy_id", None) or 0)
    done = flash(console_done.done(form, who.name if who else ""), 200, kind="ok")
    if who:  # one deputy's attendance changed: this console's search rows ask again, now
        done.headers["HX-Trigger"] = "wz-roster"
    return done


async def roster(request: Request) -> Response:
    """Search the roster for manual check-in and leave (no broadcast: HTTP only)."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    query = request.query_params.get("q", "").strip()[:32]
    try:
        room = await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return message_page(msg.edge("no_meeting"), 404)
    state = room.runtime.state
    found = [
        d
        for d in state.setup.deputies.values()
        if query and (query in d.name or query == d.card_no or query in d.group)
    ][:30]
    rows = [(d, state.attendance.get(d.id)) for d in found]
    return page(
        "roster", rows=rows, query=query, meeting_id=state.setup.meeting_id, suspended=state.setup.suspended
    )


async def pair(request: Request) -> Response:
    session = staff(request)
    if session is None or not (session.roles & CONSOLE_ROLES):
        return flash(msg.edge("login_required"), 401)
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return flash(msg.edge("csrf"), 403)
    code = parse.pair_code(form.get("code"))
    if code is None:
        return flash(msg.edge("pair_code_invalid"), 400)
    meeting_id = int(request.path_params["meeting_id"])
    async with services(request).engine.begin() as conn:
        kind = await pairing.approve(conn, meeting_id, code, session.username, time.time_ns() // 1_000_000)
    if kind is None:
        return flash(msg.edge("pair_code_invalid"), 400)
    name = pairing.SCREEN_NAMES.get(kind, "屏幕")
    return flash(f"已配对{name}，屏幕将在几秒内显示。", 200, kind="ok")
