"""Question collection on the deputy's phone and the staff review board.

``/d/{meeting}/questions``: the bound deputy submits a question before the meeting's
deadline and sees the submissions of their own group, with status and reject reasons.
``/m/{meeting}/review``: staff see every submission grouped by group, merge, edit,
reject with a reason, approve into the final list, order it, assign the asking deputy
and the answering officials, set the deadline, and enter a question on a deputy's
behalf. The logic is in :mod:`server.office.questions_admin`; each write checks the session and
the CSRF token and runs in one transaction under the meeting's write lock, so bad input
(a Chinese message, status 400) or a meeting that has begun (409) writes nothing.
Checkboxes are sent as distinct names (``pick_<id>``, ``official_<id>``, ``co_<id>``)
because forms are read as one value per name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.days import epoch_ms
from server.base.keys import DeputyBinding, StaffSession
from server.office import final_list, questions_own, reviewers
from server.office import questions_admin as qa
from server.office.meeting_forms import Invalid
from server.office.meetings_admin import has_events
from server.room.phonebook import Outcome
from server.storage import phones
from server.storage.cards import Card
from server.storage.db import meeting_write
from server.web.http import (
    DEPUTY_COOKIE,
    csrf_ok,
    device,
    form_of,
    message_page,
    page,
    require_staff,
    services,
    staff_form,
)


def deadline_text(ms: int | None) -> str:
    return parse.moment_text(ms)


def parse_deadline(raw: str) -> int | None:
    """None clears the deadline; a time outside 2000-2099 or off the calendar is refused."""
    if not raw.strip():
        return None
    deadline = parse.moment(raw)
    if deadline is None:
        raise Invalid({"deadline": qa.TEXT["deadline_bad"]})
    return deadline


def _picked(form: dict[str, str], prefix: str, field: str, message: str) -> list[int]:
    """The ids of the ticked ``<prefix><id>`` checkboxes."""
    ids = parse.suffixed_ids(form, prefix)
    if ids is None:
        raise Invalid({field: message})
    return ids


# -- the deputy's phone --------------------------------------------------------------------


async def _phone_page(
    request: Request, meeting_id: int, deputy_id: int, sid: str, status: int = 200, **extra: Any
) -> Response:
    async with services(request).engine.connect() as conn:
        row = await qa.meeting(conn, meeting_id)
        me = await qa.deputy(conn, row.body_id, deputy_id)
        members = await qa.deputies(conn, row.body_id)
        officials = await qa.officials(conn, row.body_id)
        subs = await qa.submissions(conn, meeting_id, me.group_id)
        reviewer = await reviewers.may_review(conn, meeting_id, deputy_id)
        await conn.commit()
    names = {d.id: d.name for d in members}
    deadline = row.submission_deadline_ms
    return page(
        "questions_phone",
        status=status,
        meeting=row,
        me=me,
        group_members=[d for d in members if d.group_id == me.group_id and d.id != deputy_id],
        officials=officials,
        official_names={o.id: f"{o.name}（{o.title}）" for o in officials},
        subs=subs,
        names=names,
        co_of=lambda s: [names.get(i, "") for i in qa.id_list(s.co_proposers)],
        statuses=qa.STATUS_NAMES,
        me_id=deputy_id,
        reviewer=reviewer,
        deadline=deadline_text(deadline),
        closed=deadline is not None and epoch_ms() > deadline,
        csrf=services(request).keys.csrf(sid),
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        saved=request.query_params.get("saved", ""),
    )


async def db_phone_binding(request: Request, meeting_id: int) -> DeputyBinding | Response | None:
    """The bound deputy, checked against the database, not the live room's card cache.

    Question pages do not open the meeting's room: a room keeps the final list it was
    opened with, so opening it while questions are still being reviewed would freeze it.
    """
    svc = services(request)
    binding = svc.keys.read_deputy(request.cookies.get(DEPUTY_COOKIE))
    async with svc.engine.connect() as conn:
        row = await qa.meeting(conn, meeting_id)
        me = await qa.deputy(conn, row.body_id, binding.deputy_id) if row and binding else None
        bound = (await phones.read(conn, [me.id])).get(me.id) if me else None
        await conn.commit()
    if row is None:
        return message_page(msg.edge("no_meeting"), 404)
    if binding is None or me is None or me.card_version != binding.card_version:
        return None
    verdict = phones.verdict(bound, me.card_version, binding.sid)  # one phone per card
    if verdict is phones.Verdict.THIS_PHONE:
        return binding
    if verdict is phones.Verdict.FREE:  # a phone from before phone bindings: adopted once
        card = Card(me.id, row.body_id, me.card_no, me.short_code, me.card_version)
        adopted = await svc.meetings.book.bind(
            card,
            binding.sid,
            phones.How.ADOPT,
            meeting_id=meeting_id,
            actor=f"deputy:{me.id}",
            device=device(request),
        )
        return binding if adopted is Outcome.BOUND else None
    return None


async def bound_phone(request: Request, meeting_id: int) -> DeputyBinding | Response:
    """The phone's deputy for a page of its own (questions, leave, review board); a phone
    with no card bound is sent to the deputy page, which says how to bind one."""
    binding = await db_phone_binding(request, meeting_id)
    if binding is None:
        return RedirectResponse(f"/d/{meeting_id}", status_code=303)
    return binding


async def phone_form(request: Request, binding: DeputyBinding) -> dict[str, str] | Response:
    """A phone's posted form, read and checked against its session's CSRF token."""
    form = await form_of(request)
    if form is None:
        return message_page(msg.edge("bad_request"), 400)
    if not csrf_ok(request, binding.sid, form):
        return message_page(msg.edge("csrf"), 403)
    return form


async def phone(request: Request) -> Response:
    meeting_id = int(request.path_params["meeting_id"])
    binding = await bound_phone(request, meeting_id)
    if isinstance(binding, Response):
        return binding
    if request.method == "GET":
        return await _phone_page(request, meeting_id, binding.deputy_id, binding.sid)
    form = await phone_form(request, binding)
    if isinstance(form, Response):
        return form
    action = form.get("action", "submit")
    sub_id = parse.row_id(form.get("sub")) or 0  # 0: no submission has it, so not_yours
    try:
        picked = _picked(form, "co_", "co", qa.TEXT["co_unknown"])
        form["co"] = ",".join(x for x in (form.get("co", ""), ",".join(map(str, picked))) if x)
        async with meeting_write(services(request).engine, meeting_id) as conn:
            if action == "withdraw":
                await questions_own.withdraw(conn, meeting_id, sub_id, binding.deputy_id, epoch_ms())
            elif action == "revise":
                await questions_own.revise(conn, meeting_id, sub_id, binding.deputy_id, form, epoch_ms())
            elif action == "submit":
                await qa.submit(conn, meeting_id, binding.deputy_id, form, epoch_ms())
            else:
                raise Invalid({"action": qa.TEXT["unknown"]})
    except Invalid as bad:
        values = form if action == "submit" else {}
        return await _phone_page(
            request, meeting_id, binding.deputy_id, binding.sid, 400, errors=bad.errors, values=values
        )
    return RedirectResponse(f"/d/{meeting_id}/questions?saved={action}", status_code=303)


# -- the review board ----------------------------------------------------------------------


async def board_data(request: Request, meeting_id: int) -> dict[str, Any] | None:
    """What the review board shows (staff at a desk, a presidium member on a phone); None
    for an unknown meeting."""
    async with services(request).engine.connect() as conn:
        row = await qa.meeting(conn, meeting_id)
        if row is None:
            await conn.commit()
            return None
        members = await qa.deputies(conn, row.body_id)
        officials = await qa.officials(conn, row.body_id)
        subs = await qa.submissions(conn, meeting_id)
        final = await final_list.final_list(conn, meeting_id)
        respondents = {q.id: await final_list.respondents(conn, q.id) for q in final}
        started = await has_events(conn, meeting_id)
        staff_names = await reviewers.staff_names(conn)
        await conn.commit()
    names = {d.id: d.name for d in members}
    group_names = {d.group_id: d.group_name for d in members}
    grouped: dict[int, list[Any]] = {}
    for s in subs:
        grouped.setdefault(s.group_id, []).append(s)
    return {
        "meeting": row,
        "members": members,
        "officials": officials,
        "official_names": {o.id: f"{o.name}（{o.title}）" for o in officials},
        "grouped": grouped,
        "group_names": group_names,
        "names": names,
        "co_of": lambda s: [names.get(i, "") for i in qa.id_list(s.co_proposers)],
        "history_of": lambda s: questions_own.history_lines(s, lambda i: names.get(i, ""), staff_names),
        "statuses": qa.STATUS_NAMES,
        "final": final,
        "respondents": respondents,
        "started": started,
        "started_text": qa.TEXT["started"],
        "deadline": deadline_text(row.submission_deadline_ms),
    }


async def _board(
    request: Request, session: StaffSession, meeting_id: int, status: int = 200, **extra: Any
) -> Response:
    data = await board_data(request, meeting_id)
    if data is None:
        return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
    return page(
        "questions_review",
        status=status,
        **data,
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        errors=extra.pop("errors", {}),
        saved=request.query_params.get("saved", ""),
    )


async def _act(conn: AsyncConnection, meeting_id: int, form: dict[str, str], who: str) -> str:
    action = form.get("action", "")
    now = epoch_ms()

    def num(key: str) -> int:
        value = parse.row_id(form.get(key))
        if value is None:
            raise Invalid({key: qa.TEXT["unknown"]})
        return value

    if action == "edit":
        await qa.edit(conn, meeting_id, num("sub"), form, who, now)
    elif action == "reject":
        await qa.reject(conn, meeting_id, num("sub"), form.get("reason", ""), who, now)
    elif action == "merge":
        keep_id = num("keep") if form.get("keep", "").strip() else None
        picked = _picked(form, "pick_", "merge", qa.TEXT["unknown"])
        await qa.merge(conn, meeting_id, picked, who, now, keep_id)
    elif action == "approve":
        await final_list.approve(conn, meeting_id, num("sub"), who, now)
    elif action in ("up", "down"):
        await final_list.move(conn, meeting_id, num("question"), action == "up")
    elif action == "order":
        order = parse.row_ids(form.get("order"))
        if order is None:
            raise Invalid({"order": qa.TEXT["not_in_list"]})
        await final_list.reorder(conn, meeting_id, order)
    elif action == "assign":
        officials = _picked(form, "official_", "respondents", qa.TEXT["respondent"])
        await final_list.assign(conn, meeting_id, num("question"), num("asker"), officials)
    elif action == "deadline":
        await qa.set_deadline(conn, meeting_id, parse_deadline(form.get("deadline", "")))
    elif action == "enter":
        row = await qa.meeting(conn, meeting_id)
        card = form.get("card_no", "").strip()
        found = [d for d in await qa.deputies(conn, row.body_id) if d.card_no == card]
        if not found:
            raise Invalid({"card_no": qa.TEXT["deputy"]})
        await qa.submit(conn, meeting_id, found[0].id, form, now, entered_by=who)
    else:
        raise Invalid({"action": "未知的操作。"})
    return action


async def write_review(
    request: Request,
    meeting_id: int,
    form: dict[str, str],
    *,
    who: str,
    actor: str,
    allowed: frozenset[str] | None = None,
    reviewer: int | None = None,
) -> str | None:
    """One write on the review board, in one transaction under the meeting's write lock,
    with its ``question_reviewed`` audit entry; the action, or None for an unknown
    meeting. Raises :class:`Invalid` (nothing written); ``allowed`` limits the actions,
    and a ``reviewer`` (a presidium member's deputy id) must still hold the grant when the
    write happens (key ``reviewer`` in the errors when not)."""
    action = form.get("action", "")
    async with meeting_write(services(request).engine, meeting_id) as conn:
        if await qa.meeting(conn, meeting_id) is None:
            return None
        if reviewer is not None and not await reviewers.may_review(conn, meeting_id, reviewer):
            raise Invalid({"reviewer": reviewers.TEXT["refused"]})
        if allowed is not None and action not in allowed:
            raise Invalid({"action": reviewers.TEXT["staff_only"]})
        action = await _act(conn, meeting_id, form, who)
        await reviewers.record_review(conn, meeting_id, action, form, actor=actor, device=device(request))
    await services(request).meetings.setup_changed(meeting_id=meeting_id)
    return action


async def review(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    if request.method == "GET":
        return await _board(request, session, meeting_id)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    try:
        action = await write_review(
            request,
            meeting_id,
            form,
            who=session.username,
            actor=f"staff:{session.username}",
        )
    except Invalid as bad:
        if "started" in bad.errors:
            return message_page(
                qa.TEXT["started"], 409, back=f"/m/{meeting_id}/review", back_label="返回问题审核"
            )
        return await _board(request, session, meeting_id, 400, errors=bad.errors)
    if action is None:
        return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"hx-refresh": "true"})
    return RedirectResponse(f"/m/{meeting_id}/review?saved={action}", status_code=303)
