"""Leave (请假): the deputy's phone page and the staff list.

``/d/{meeting}/leave``: the bound deputy asks for leave before the meeting (a reason, at
most 200 characters), sees the request's status (待审批 / 已批准 / 未批准, and who decided)
and may withdraw it while it waits. ``/m/{meeting}/leave``: staff see every request,
pending first, approve or refuse it with an optional note, or record leave by hand for any
member. The rules are in :mod:`server.office.leave`; each write is one transaction under
the meeting's write lock, and a refusal is a Chinese message with nothing written.

The projector's counts follow at once through the one action path: once the change is
committed, an approval or a hand record of a meeting that has begun is submitted to its
room as ``MarkLeave`` (a refusal of approved leave as ``ClearAttendance``), with the staff
user as the actor; a meeting not yet begun reloads its setup (approved leave is read
into ``Setup.on_leave``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from live.commands import Actor, ClearAttendance, MarkLeave, Role
from live.refusals import Refused
from live.state import Presence
from screens import messages as msg
from server.base import parse
from server.base.days import epoch_ms
from server.base.keys import StaffSession
from server.office import attendance_history, leave
from server.room.runtime import NotRecorded
from server.storage.db import meeting_write, snapshot_read
from server.web.http import device, message_page, page, require_staff, services, staff_form
from server.web.routes.questions import bound_phone, phone_form

SAVED = {
    "ask": "请假申请已提交，请等待审批。",
    "withdraw": "请假申请已撤回。",
    "approve": "已批准请假。",
    "refuse": "已标记为不批准。",
    "record": "已登记请假。",
}


def _no_meeting() -> Response:
    return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")


# -- the deputy's phone ------------------------------------------------------------------


async def _phone_page(
    request: Request,
    meeting_id: int,
    deputy_id: int,
    sid: str,
    status: int = 200,
    error: str = "",
    reason: str = "",
) -> Response:
    async with snapshot_read(services(request).engine) as conn:
        meeting = await leave.meeting_of(conn, meeting_id)
        mine = await leave.requests(conn, meeting_id, deputy_id)
        deciders = await leave.decider_names(conn, mine)
        missed = await attendance_history.deputy_absences(conn, deputy_id)
    return page(
        "leave_phone",
        status=status,
        meeting=meeting,
        mine=mine,
        current=next((r for r in mine if r.status != leave.WITHDRAWN), None),
        deciders=deciders,
        missed=missed,
        closed=meeting.closed_ms is not None,
        csrf=services(request).keys.csrf(sid),
        error=error,
        reason=reason,
        saved=SAVED.get(request.query_params.get("saved", ""), ""),
        max_reason=leave.MAX_REASON,
    )


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
    action = form.get("action", "ask")
    try:
        async with meeting_write(services(request).engine, meeting_id) as conn:
            if action == "withdraw":
                request_id = parse.row_id(form.get("request")) or 0
                await leave.withdraw(
                    conn, meeting_id, binding.deputy_id, request_id, device(request), epoch_ms()
                )
            elif action == "ask":
                await leave.ask(
                    conn, meeting_id, binding.deputy_id, form.get("reason"), device(request), epoch_ms()
                )
            else:
                raise leave.NotAllowed("未知的操作。")
    except leave.NotAllowed as refused:
        reason = form.get("reason", "")[: leave.MAX_REASON * 2] if action == "ask" else ""
        return await _phone_page(
            request, meeting_id, binding.deputy_id, binding.sid, 400, error=str(refused), reason=reason
        )
    return RedirectResponse(f"/d/{meeting_id}/leave?saved={action}", status_code=303)


# -- staff -------------------------------------------------------------------------------


def _actor(session: StaffSession) -> Actor:
    return Actor(Role.CHAIR if "chair" in session.roles else Role.STAFF, user=session.username)


async def follow(request: Request, session: StaffSession, meeting_id: int, effect: leave.Effect) -> str:
    """Bring the running meeting in line with a committed decision; a notice if it could not."""
    if not effect.mark:
        return ""
    svc = services(request)
    if not effect.begun:  # not begun: a loaded meeting reloads its setup (Setup.on_leave)
        await svc.meetings.setup_changed(meeting_id=meeting_id)
        return ""
    room = await svc.meetings.room(meeting_id)
    if effect.mark == "leave":
        command: MarkLeave | ClearAttendance = MarkLeave(effect.deputy_id)
    elif room.runtime.state.attendance.get(effect.deputy_id) is Presence.LEAVE:
        command = ClearAttendance(effect.deputy_id)
    else:
        return ""  # checked in meanwhile, or not on leave: nothing to undo
    try:
        await room.runtime.submit(command, _actor(session), device(request))
    except Refused as refusal:
        return f"请假记录已保存，但会场状态未改变：{msg.refusal(refusal.code)}"
    except NotRecorded:
        return "请假记录已保存，但会场状态未能更新，请在主持台上登记请假。"
    return ""


async def _staff_page(
    request: Request, session: StaffSession, meeting_id: int, status: int = 200, **extra: Any
) -> Response:
    async with snapshot_read(services(request).engine) as conn:
        try:
            meeting = await leave.meeting_of(conn, meeting_id)
        except leave.NotAllowed:
            return _no_meeting()
        found = await leave.requests(conn, meeting_id)
        deciders = await leave.decider_names(conn, found)
        members = await leave.roster(conn, meeting, epoch_ms())
    return page(
        "leave_staff",
        status=status,
        meeting=meeting,
        requests=found,
        deciders=deciders,
        members=members,
        closed=meeting.closed_ms is not None,
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        error=extra.get("error", ""),
        notice=extra.get("notice", ""),
        saved=SAVED.get(request.query_params.get("saved", ""), ""),
        values=extra.get("values", {}),
    )


async def staff_page(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    if request.method == "GET":
        return await _staff_page(request, session, meeting_id)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    action = form.get("action", "")
    try:
        async with meeting_write(services(request).engine, meeting_id) as conn:
            await leave.meeting_of(conn, meeting_id)
            who, now = session.username, epoch_ms()
            if action in ("approve", "refuse"):
                request_id = parse.row_id(form.get("request")) or 0
                effect = await leave.decide(
                    conn,
                    meeting_id,
                    request_id,
                    action == "approve",
                    form.get("note"),
                    by=who,
                    device=device(request),
                    now_ms=now,
                )
            elif action == "record":
                deputy_id = parse.row_id(form.get("deputy"))
                if deputy_id is None:
                    raise leave.NotAllowed("请选择请假的代表。")
                effect = await leave.record(
                    conn,
                    meeting_id,
                    deputy_id,
                    form.get("reason"),
                    by=who,
                    device=device(request),
                    now_ms=now,
                )
            else:
                raise leave.NotAllowed("未知的操作。")
    except leave.NotAllowed as refused:
        if str(refused) == "没有这个会议。":
            return _no_meeting()
        values = {k: form.get(k, "")[:400] for k in ("deputy", "reason")} if action == "record" else {}
        return await _staff_page(request, session, meeting_id, 400, error=str(refused), values=values)
    notice = await follow(request, session, meeting_id, effect)
    if notice:
        return await _staff_page(request, session, meeting_id, 200, notice=notice)
    return RedirectResponse(f"/m/{meeting_id}/leave?saved={action}", status_code=303)
