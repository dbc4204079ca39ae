"""Staff pages of follow-up (督办), server/office/followup.py.

``/m/{meeting}/followup``: record the meeting's 交办 decision — the deciding organ, day,
document number and reply period, each question as a checkbox (督办事项, 重点督办) with the
reason it is not made an item. ``/bodies/{body}/followup``: the board — counts, the
reminders line, overdue items first, then those due within 14 days, then the rest;
filters by meeting, organ, status and priority; an item created by hand.
``/followup/{item}``: one item — its organs, commitments, history and the status change.

Writes check the staff session and the CSRF token and run in one transaction with their
audit entry; bad input gets the page again with a Chinese message (status 400) and
changes nothing. Overdue and the reminders are computed on each request (China date).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.base import parse
from server.base.days import BadDay, chinese_day, epoch_ms, moment_of_ms, parse_day, today
from server.base.keys import StaffSession
from server.office import bodies as office_bodies
from server.office import (
    followup,
    followup_hall,
    followup_judgments,
    followup_posts,
    followup_reads,
    question_commitments,
)
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.web.http import (
    csrf_ok,
    device,
    form_of,
    message_page,
    page,
    require_staff,
    services,
    staff_form,
)
from server.web.routes.post_files import post_form

# Five fields per question (item, priority, reason, written answer and its author) and the
# decision's own; a written answer may be 5000 characters, percent-encoded nine bytes each.
MAX_DECISION_FIELDS = 5 * 200 + 10
MAX_DECISION_BYTES = 4 * 1024 * 1024
# A written answer's field: its line breaks come as two characters (CRLF), so room for
# twice the limit; the office counts the characters and says so in Chinese.
MAX_ANSWER_FIELD = 2 * followup_hall.MAX_ANSWER
MAX_ANSWER_BYTES = 256 * 1024


def _months(raw: str | None) -> int:
    """The typed reply period; 0 (refused by the office in Chinese) when it is no number."""
    value = parse.integer(raw, -99, 99)
    return 0 if value is None else value


# -- the 交办 decision of a meeting --------------------------------------------------------


async def decision_page(
    request: Request, session: StaffSession, meeting_id: int, status: int = 200, **extra: Any
) -> Response:
    async with services(request).engine.connect() as conn:
        meeting, decision, questions = await followup_reads.decision_form(conn, meeting_id)
        items, closed = await followup_reads.decided(conn, decision.id) if decision else ([], [])
        hall = await followup_hall.hall_of(conn, meeting_id)
        promised = await question_commitments.of_meeting(conn, meeting_id)
        snapshots = {int(q.id): await followup_reads.question_snapshot(conn, q, hall) for q in questions}
        await conn.commit()
    if meeting is None:
        return message_page(followup.TEXT["no_meeting"], 404, back="/meetings", back_label="返回会议列表")
    return page(
        "followup_decision",
        status=status,
        meeting=meeting,
        decision=decision,
        decided_on=chinese_day(decision.decided_on) if decision else "",
        questions=questions,
        hall=hall,
        promised=promised,
        snapshots=snapshots,
        max_answer=followup_hall.MAX_ANSWER,
        items=items,
        closed=closed,
        values=extra.pop("values", {}),
        errors=extra.pop("errors", {}),
        months=(rules.MIN_MONTHS, rules.MAX_MONTHS, rules.DEFAULT_MONTHS),
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        saved=request.query_params.get("saved", ""),
    )


async def decision(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    if request.method == "GET":
        return await decision_page(request, session, meeting_id)
    form = await form_of(
        request, max_fields=MAX_DECISION_FIELDS, max_bytes=MAX_DECISION_BYTES, max_field=MAX_ANSWER_FIELD
    )
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page("表单无效或已过期，请刷新页面后重试。", 403)
    chosen, priority = parse.suffixed_ids(form, "item_"), parse.suffixed_ids(form, "key_")
    reasons = {int(k[7:]): v for k, v in form.items() if k.startswith("reason_") and k[7:].isdigit()}
    try:
        if chosen is None or priority is None:
            raise Invalid({"questions": followup.TEXT["unknown_question"]})
        try:
            decided_on = parse_day(form.get("decided_on", ""), "交办日期")
        except BadDay as bad:
            raise Invalid({"decided_on": str(bad)}) from None
        async with services(request).engine.begin() as conn:
            await followup.record_decision(
                conn,
                meeting_id,
                organ=form.get("organ", ""),
                decided_on=decided_on,
                document_no=form.get("document_no", ""),
                reply_months=_months(form.get("reply_months")),
                chosen=chosen,
                priority=priority,
                reasons=reasons,
                answers=followup_hall.answers_of(form),
                actor=f"staff:{session.username}",
                device=device(request),
                now_ms=epoch_ms(),
            )
    except Invalid as bad:
        if bad.errors.get("meeting") == followup.TEXT["no_meeting"]:
            return message_page(followup.TEXT["no_meeting"], 404, back="/meetings", back_label="返回会议列表")
        return await decision_page(request, session, meeting_id, 400, errors=bad.errors, values=form)
    return RedirectResponse(f"/m/{meeting_id}/followup?saved=1", status_code=303)


# -- the board of a body -------------------------------------------------------------------


def _filters(query: Any) -> followup_reads.Filters:
    status = query.get("status") or None
    return followup_reads.Filters(
        meeting_id=parse.row_id(query.get("meeting")),
        organ_id=parse.row_id(query.get("organ")),
        status=status if status in (*rules.STATUSES, "overdue") else None,
        priority=query.get("priority") == "1",
    )


async def _board_page(
    request: Request, session: StaffSession, body_id: int, status: int = 200, **extra: Any
) -> Response:
    filters = _filters(request.query_params)
    day = today()
    async with services(request).engine.connect() as conn:
        body = await office_bodies.body(conn, body_id)
        board = await followup_reads.board(conn, body_id, day, filters) if body else None
        objected = await followup_judgments.objected_items(conn, body_id)
        pending = await followup_judgments.objected_items(conn, body_id, open_only=True)
        await conn.commit()
    if body is None or board is None:
        return message_page(followup.TEXT["no_body"], 404, back="/bodies", back_label="返回机构列表")
    only_objected = request.query_params.get("objected") == "1"
    if only_objected:  # open items a deputy objects to closing on their current reply
        board = dataclasses.replace(board, cards=[c for c in board.cards if c.id in pending])
    return page(
        "followup_board",
        status=status,
        body=body,
        board=board,
        filters=filters,
        objected=objected,
        pending=pending,
        only_objected=only_objected,
        statuses=rules.STATUSES,
        today=day,
        remind_days=rules.REMIND_DAYS,
        soon_days=rules.SOON_DAYS,
        values=extra.pop("values", {}),
        errors=extra.pop("errors", {}),
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        saved=request.query_params.get("saved", ""),
    )


async def board(request: Request) -> Response:
    """The board (GET); POST creates an item by hand."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    body_id = int(request.path_params["body_id"])
    if request.method == "GET":
        return await _board_page(request, session, body_id)
    form = await form_of(request, max_bytes=MAX_ANSWER_BYTES, max_field=MAX_ANSWER_FIELD)
    if form is None:
        return message_page("表单无效或内容过长，请检查后重试。", 400)
    if not csrf_ok(request, session.sid, form):
        return message_page("表单无效或已过期，请刷新页面后重试。", 403)
    try:
        try:
            assigned_on = parse_day(form.get("assigned_on", ""), "交办日期")
        except BadDay as bad:
            raise Invalid({"assigned_on": str(bad)}) from None
        async with services(request).engine.begin() as conn:
            item_id = await followup.create_item(
                conn,
                body_id,
                title=form.get("title", ""),
                assigned_on=assigned_on,
                reply_months=_months(form.get("reply_months")),
                meeting_id=parse.row_id(form.get("meeting")),
                asker=form.get("asker", ""),
                respondent=form.get("respondent", ""),
                priority=form.get("priority") == "1",
                answer=form.get("answer", ""),
                answer_by=form.get("answer_by", ""),
                actor=f"staff:{session.username}",
                device=device(request),
                now_ms=epoch_ms(),
            )
    except Invalid as bad:
        if bad.errors.get("body"):
            return message_page(bad.errors["body"], 404, back="/bodies", back_label="返回机构列表")
        return await _board_page(request, session, body_id, 400, errors=bad.errors, values=form)
    return RedirectResponse(f"/followup/{item_id}?saved=created", status_code=303)


# -- one item ------------------------------------------------------------------------------


async def _item_page(
    request: Request, session: StaffSession, item_id: int, status: int = 200, **extra: Any
) -> Response:
    async with services(request).engine.connect() as conn:
        view = await followup_reads.item_view(conn, item_id)
        # The posts' attachments and bylines (server/office/followup_posts.py).
        files = await followup_posts.files_of(conn, [int(p.id) for p in view.posts]) if view else {}
        names = dict(view.body_organs) if view else {}
        judged = await followup_judgments.by_reply(conn, item_id)
        await conn.commit()
    if view is None:
        return message_page(followup.TEXT["no_item"], 404, back="/bodies", back_label="返回机构列表")
    day = today()
    item = view.item
    return page(
        "followup_item",
        status=status,
        view=view,
        item=item,
        mine={organ_id: lead for organ_id, _, lead in view.organs},
        overdue=rules.overdue(item.status, item.reply_due, day),
        statuses=rules.STATUSES,
        classes=rules.CLASSES,
        when=moment_of_ms,
        files=files,
        byline=lambda p: followup_posts.byline(p, names),
        work_dated=followup_posts.work_dated,
        post_form=post_form(day, view),
        judged=judged,
        objections=judged[-1].objections if judged else 0,
        values=extra.pop("values", {}),
        errors=extra.pop("errors", {}),
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        saved=request.query_params.get("saved", ""),
    )


async def item(request: Request) -> Response:
    """One item (GET); POST ``action``: organs, commitment or status."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    item_id = int(request.path_params["item_id"])
    if request.method == "GET":
        return await _item_page(request, session, item_id)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    action = form.get("action", "")
    who: dict[str, Any] = {"actor": f"staff:{session.username}", "device": device(request)}
    try:
        async with services(request).engine.begin() as conn:
            if action == "organs":
                assisting = parse.suffixed_ids(form, "assist_")
                if assisting is None:
                    raise Invalid({"organs": followup.TEXT["unknown_organ"]})
                await followup.set_organs(conn, item_id, parse.row_id(form.get("lead")), assisting, **who)
            elif action == "commitment":
                await followup.add_commitment(conn, item_id, form.get("text", ""), now_ms=epoch_ms(), **who)
            elif action == "status":
                cls = form.get("reply_class") or None
                await followup.change_status(
                    conn,
                    item_id,
                    form.get("to", ""),
                    text=form.get("text", ""),
                    reply_class=cls,
                    author=session.username,
                    on_behalf=form.get("to") == rules.REPLIED,  # a reply received from the organ
                    now_ms=epoch_ms(),
                    **who,
                )
            else:
                raise Invalid({"action": "未知的操作。"})
    except Invalid as bad:
        if bad.errors.get("item"):
            return message_page(bad.errors["item"], 404, back="/bodies", back_label="返回机构列表")
        return await _item_page(request, session, item_id, 400, errors=bad.errors, values=form)
    return RedirectResponse(f"/followup/{item_id}?saved={action}", status_code=303)
