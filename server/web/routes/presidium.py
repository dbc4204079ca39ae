"""Staff pages for the presidium and for who reviews a meeting's questions from a phone.

``/bodies/{body}/presidium``: the presidium of a congress, one per session (county and
higher, chosen with ``?session=``) or one per term (town, ``?term=``), set as a whole
list (:mod:`server.office.presidium`). ``/m/{meeting}/reviewers``: the members of the
meeting's presidium, each with 授权 / 取消 for the meeting's question review board on
their own phone (:mod:`server.office.reviewers`). Writes check the staff session and the
CSRF token and run in one transaction with their audit entry; bad input gets the page
again with a Chinese message (status 400) and changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.days import chinese_day, moment_of_ms, session_name, term_name, today
from server.base.keys import StaffSession
from server.office import presidium, reviewers
from server.office.meeting_forms import Invalid
from server.storage.db import meeting_write
from server.web.http import device, message_page, page, require_staff, services, staff_form

# -- the presidium of a body ----------------------------------------------------------------


def _choice(
    town: bool, terms: list[Any], sessions: list[Any], want_term: int | None, want_session: int | None
) -> tuple[int | None, int | None]:
    """(term id, session id) to show: the one asked for, else the term running today (town)
    or the newest session (county and higher)."""
    if town:
        ids = [t.id for t in terms]
        if want_term in ids:
            return want_term, None
        now = today()
        running = [t.id for t in terms if t.starts_on <= now and (t.ends_on is None or now < t.ends_on)]
        return (running or ids or [None])[-1], None
    ids = [s.id for s in sessions]
    chosen = want_session if want_session in ids else (ids[-1] if ids else None)
    term = next((s.term_id for s in sessions if s.id == chosen), None)
    return term, chosen


async def _presidium_page(
    request: Request,
    session: StaffSession,
    body_id: int,
    wanted: tuple[int | None, int | None],
    status: int = 200,
    **extra: Any,
) -> Response:
    async with services(request).engine.connect() as conn:
        body = await presidium.body_row(conn, body_id)
        if body is None:
            await conn.commit()
            return message_page(presidium.TEXT["no_body"], 404, back="/bodies", back_label="返回机构列表")
        if not presidium.has_presidium(body):
            await conn.commit()
            return message_page(presidium.TEXT["standing"], 409, back="/bodies", back_label="返回机构列表")
        town = presidium.is_town(body)
        terms = await presidium.terms_of(conn, body_id)
        sessions = [] if town else await presidium.sessions_of(conn, body_id)
        term_id, session_id = _choice(town, terms, sessions, *wanted)
        where = day = None
        candidates: list[presidium.Member] = []
        seated: list[presidium.Member] = []
        if term_id is not None and (town or session_id is not None):
            where = await presidium.scope(conn, body_id, term_id, session_id)
            day = await presidium.relevant_day(conn, where)
            candidates = await presidium.candidates(conn, where, day)
            seated = await presidium.current(conn, where)
        await conn.commit()
    roles = {x.deputy_id: x.role for x in seated}
    chosen = extra.pop("chosen", None)
    if chosen is not None:  # what was sent, shown again with the message
        roles = dict(chosen)
    eligible = {c.deputy_id for c in candidates}
    return page(
        "presidium",
        status=status,
        body=body,
        town=town,
        terms=[(t.id, term_name(t.number)) for t in terms],
        sessions=[(s.id, term_name(s.term_number) + session_name(s.number)) for s in sessions],
        term_id=term_id,
        session_id=session_id,
        where=where,
        day=chinese_day(day) if day else "",
        candidates=candidates,
        seated=seated,
        gone=[x for x in seated if x.deputy_id not in eligible],
        roles=roles,
        role_names=presidium.ROLES,
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        errors=extra.pop("errors", {}),
        saved=request.query_params.get("saved", ""),
    )


async def presidium_page(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    body_id = int(request.path_params["body_id"])
    query = request.query_params
    wanted = (parse.row_id(query.get("term")), parse.row_id(query.get("session")))
    if request.method == "GET":
        return await _presidium_page(request, session, body_id, wanted)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    term_id = parse.row_id(form.get("term"))
    session_id = parse.row_id(form.get("session"))
    # Checkboxes only (a form sends at most 50 fields): member_<id>, and exec_<id> for a
    # 常务主席, who is a member too.
    picked, executive = parse.suffixed_ids(form, "member_"), parse.suffixed_ids(form, "exec_")
    everyone = dict.fromkeys([*(picked or []), *(executive or [])])
    chosen = [(i, presidium.EXECUTIVE if i in (executive or []) else presidium.MEMBER) for i in everyone]
    try:
        if picked is None or executive is None:
            raise Invalid({"members": presidium.TEXT["unknown_deputy"]})
        async with services(request).engine.begin() as conn:
            where = await presidium.scope(conn, body_id, term_id, session_id)
            await presidium.set_members(
                conn, where, chosen, actor=f"staff:{session.username}", device=device(request)
            )
    except Invalid as bad:
        if "body" in bad.errors:
            status = 404 if bad.errors["body"] == presidium.TEXT["no_body"] else 409
            return message_page(bad.errors["body"], status, back="/bodies", back_label="返回机构列表")
        shown = (term_id, session_id)
        return await _presidium_page(request, session, body_id, shown, 400, errors=bad.errors, chosen=chosen)
    key = "session" if where.session_id is not None else "term"
    return RedirectResponse(
        f"/bodies/{body_id}/presidium?{key}={where.session_id or where.term_id}&saved=1", status_code=303
    )


# -- reviewers of a meeting ---------------------------------------------------------------------


async def _reviewers_page(
    request: Request, session: StaffSession, meeting_id: int, status: int = 200, **extra: Any
) -> Response:
    problem = ""
    where = None
    seated: list[presidium.Member] = []
    async with services(request).engine.connect() as conn:
        row = await reviewers.meeting_row(conn, meeting_id)
        if row is None:
            await conn.commit()
            return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
        try:
            where, seated = await presidium.of_meeting(conn, meeting_id)
        except Invalid as bad:
            problem = "".join(bad.errors.values())
        granted = await reviewers.grants(conn, meeting_id)
        names = {i: await reviewers.deputy_name(conn, i) for i in granted}
        await conn.commit()
    in_presidium = {x.deputy_id for x in seated}
    return page(
        "reviewers",
        status=status,
        meeting=row,
        where=where,
        problem=problem,
        seated=seated,
        granted={
            i: f"{g.granted_by.partition(':')[2]}，{moment_of_ms(g.granted_ms)}" for i, g in granted.items()
        },
        others=[(i, names[i]) for i in granted if i not in in_presidium],
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        errors=extra.pop("errors", {}),
        saved=request.query_params.get("saved", ""),
    )


async def reviewers_page(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    if request.method == "GET":
        return await _reviewers_page(request, session, meeting_id)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    action = form.get("action", "")
    deputy_id = parse.row_id(form.get("deputy")) or 0  # 0: nobody, refused with its message
    actor = f"staff:{session.username}"
    try:
        async with meeting_write(services(request).engine, meeting_id) as conn:
            if await reviewers.meeting_row(conn, meeting_id) is None:
                return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
            if action == "grant":
                now = int(time.time() * 1000)
                await reviewers.grant(
                    conn, meeting_id, deputy_id, actor=actor, device=device(request), now_ms=now
                )
            elif action == "revoke":
                await reviewers.revoke(conn, meeting_id, deputy_id, actor=actor, device=device(request))
            else:
                raise Invalid({"action": "未知的操作。"})
    except Invalid as bad:
        return await _reviewers_page(request, session, meeting_id, 400, errors=bad.errors)
    return RedirectResponse(f"/m/{meeting_id}/reviewers?saved={action}", status_code=303)
