"""我的督办: follow-up (督办) on the deputy's phone, server/office/followup_deputy.py.

``/d/{meeting}/followup``: the bound deputy's items — those of the questions the deputy
asked or co-proposed, in every meeting of the body (a deputy belongs to a body; the
meeting in the path only finds the phone's binding). ``/d/{meeting}/followup/{item}``:
one item with its organs, deadline, commitments and every post in order; while it is
已答复 the deputy judges the reply (满意 / 基本满意 / 不满意, the last sends it back for
重新办理) and may say 不同意办结 with a reason, or take that back.

The phone is bound as for its other pages (routes/questions.py ``bound_phone``); a POST
checks the phone session's CSRF token. Someone else's item answers 403 (an unknown one
404); bad input answers 400 with its Chinese message and changes nothing.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.base.days import day_of_ms, epoch_ms, moment_of_ms, today
from server.office import followup_deputy, followup_posts
from server.office import followup_rules as rules
from server.office import questions_admin as qa
from server.office.meeting_forms import Invalid
from server.web.http import device, message_page, page, services
from server.web.routes.questions import bound_phone, phone_form

SAVED = {
    "verdict": "您的评价已记录。",
    "redo": "您的评价已记录。此事项已退回承办单位重新办理，请等待新的答复。",
    "object": "您的“不同意办结”意见已记录。",
    "withdraw": "已撤回“不同意办结”。",
}


def _not_yours(meeting_id: int, status: int) -> Response:
    return message_page(
        followup_deputy.TEXT["not_yours"], status, back=f"/d/{meeting_id}/followup", back_label="返回我的督办"
    )


def _no_item(meeting_id: int) -> Response:
    return message_page(
        followup_deputy.TEXT["no_item"], 404, back=f"/d/{meeting_id}/followup", back_label="返回我的督办"
    )


async def _body_of(request: Request, meeting_id: int) -> int:
    async with services(request).engine.connect() as conn:
        row = await qa.meeting(conn, meeting_id)
        await conn.commit()
    return int(row.body_id)


async def items(request: Request) -> Response:
    meeting_id = int(request.path_params["meeting_id"])
    binding = await bound_phone(request, meeting_id)
    if isinstance(binding, Response):
        return binding
    body_id = await _body_of(request, meeting_id)
    async with services(request).engine.connect() as conn:
        found = await followup_deputy.items(conn, body_id, binding.deputy_id, today())
        await conn.commit()
    return page(
        "followup_phone",
        meeting_id=meeting_id,
        items=found,
        to_judge=sum(i.judging and i.my_verdict is None for i in found),
        classes=rules.CLASSES,
        verdicts=rules.VERDICTS,
        day=lambda ms: day_of_ms(ms).isoformat(),
    )


async def _item_page(
    request: Request, meeting_id: int, item_id: int, deputy_id: int, sid: str, status: int = 200, **extra: str
) -> Response:
    async with services(request).engine.connect() as conn:
        try:
            shown = await followup_deputy.item(conn, item_id, deputy_id, today())
        except followup_deputy.NotYours:
            return _not_yours(meeting_id, 403)
        except Invalid:
            return _no_item(meeting_id)
        finally:
            await conn.commit()
    return page(
        "followup_phone_item",
        status=status,
        meeting_id=meeting_id,
        it=shown,
        statuses=rules.STATUSES,
        classes=rules.CLASSES,
        verdicts=rules.VERDICTS,
        max_reason=rules.MAX_OBJECTION,
        when=moment_of_ms,
        work_dated=followup_posts.work_dated,
        csrf=services(request).keys.csrf(sid),
        saved=SAVED.get(request.query_params.get("saved", ""), ""),
        error=extra.get("error", ""),
        reason=extra.get("reason", ""),
        text=extra.get("text", ""),
        failed=extra.get("failed", ""),
    )


async def _act(
    conn: AsyncConnection, item_id: int, deputy_id: int, action: str, form: dict[str, str], at: str, now: int
) -> str:
    """Do the phone's ``action``; the key of the message to show."""
    if action == "verdict":
        verdict, text = form.get("verdict", ""), form.get("text", "")
        moved = await followup_deputy.judge(conn, item_id, deputy_id, verdict, text, device=at, now_ms=now)
        return "redo" if moved == rules.REDO else "verdict"
    if action == "object":
        reason = form.get("reason", "")
        await followup_deputy.object_to_closing(conn, item_id, deputy_id, reason, device=at, now_ms=now)
        return action
    if action == "withdraw":
        await followup_deputy.withdraw_objection(conn, item_id, deputy_id, device=at, now_ms=now)
        return action
    raise Invalid({"action": "未知的操作。"})


async def _write(request: Request, item_id: int, deputy_id: int, action: str, form: dict[str, str]) -> str:
    """One transaction; run again once if it lost a race for the same judgment row (on
    PostgreSQL a double tap's two requests can both find no row): the second run finds
    the row and, the same choice again, changes nothing."""
    at, now = device(request), epoch_ms()
    for attempt in (1, 2):
        try:
            async with services(request).engine.begin() as conn:
                return await _act(conn, item_id, deputy_id, action, form, at, now)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def item(request: Request) -> Response:
    """One item (GET); POST ``action``: verdict, object or withdraw."""
    meeting_id = int(request.path_params["meeting_id"])
    item_id = int(request.path_params["item_id"])
    binding = await bound_phone(request, meeting_id)
    if isinstance(binding, Response):
        return binding
    if request.method == "GET":
        return await _item_page(request, meeting_id, item_id, binding.deputy_id, binding.sid)
    form = await phone_form(request, binding)
    if isinstance(form, Response):
        return form
    action = form.get("action", "")
    try:
        saved = await _write(request, item_id, binding.deputy_id, action, form)
    except followup_deputy.NotYours:
        return _not_yours(meeting_id, 403)
    except Invalid as bad:
        if bad.errors.get("item"):
            return _no_item(meeting_id)
        return await _item_page(
            request,
            meeting_id,
            item_id,
            binding.deputy_id,
            binding.sid,
            400,
            error="".join(bad.errors.values()),
            failed=action,
            reason=form.get("reason", "")[: rules.MAX_OBJECTION * 2] if action == "object" else "",
            text=form.get("text", "")[: rules.MAX_OBJECTION * 2] if action == "verdict" else "",
        )
    return RedirectResponse(f"/d/{meeting_id}/followup/{item_id}?saved={saved}", status_code=303)
