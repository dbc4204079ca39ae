"""Attendance history pages: per body (members × meetings) and per member, with XLSX.

``/bodies/{body}/attendance`` (filter ``?term=``) shows 出/迟/离/假/缺 per member and
meeting and warns staff of members who reached the two-absence rule of 代表法 §49;
``/bodies/{body}/deputies/{deputy}/attendance`` lists one member's records, where staff
correct a record (status and a note; audited before and after). The exports read the
data first and build the workbook in the office's worker processes (server/office/workshop.py).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.keys import StaffSession
from server.office import attendance_export, attendance_history
from server.storage.attendance import NotAllowed, correct
from server.storage.db import meeting_write, snapshot_read
from server.web.http import device, message_page, page, require_staff, services, staff_form

STATUS_CHOICES = {"present": "出席", "leave": "请假（已批准）", "absent": "缺席"}


def _term(request: Request) -> int | None:
    return parse.row_id(request.query_params.get("term"))


async def _staff_body(request: Request) -> tuple[StaffSession, Any] | Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    async with snapshot_read(services(request).engine) as conn:
        body = await attendance_history.body(conn, int(request.path_params["body_id"]))
    if body is None:
        return message_page(msg.edge("no_body"), 404, back="/bodies", back_label="返回机构列表")
    return session, body


def _download(data: bytes, what: str, ascii_name: str) -> Response:
    name = quote(attendance_export.filename(what))
    disposition = f"attachment; filename=\"{ascii_name}.xlsx\"; filename*=UTF-8''{name}"
    return Response(data, media_type=attendance_export.XLSX, headers={"content-disposition": disposition})


async def body_page(request: Request) -> Response:
    found = await _staff_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    term_id = _term(request)
    async with snapshot_read(services(request).engine) as conn:
        grid = await attendance_history.grid(conn, body.id, term_id)
        terms = await attendance_history.terms(conn, body.id)
        warnings = await attendance_history.warnings(conn, body.id)
    return page(
        "attendance_body",
        body=body,
        grid=grid,
        terms=terms,
        term_id=term_id,
        warnings=warnings,
        organ=attendance_history.organ(body.level),
        codes=attendance_history.CODE_NAMES,
        user=session,
    )


async def body_xlsx(request: Request) -> Response:
    found = await _staff_body(request)
    if isinstance(found, Response):
        return found
    _, body = found
    async with snapshot_read(services(request).engine) as conn:
        grid = await attendance_history.grid(conn, body.id, _term(request))
    data = await services(request).workshop.run(attendance_export.body_xlsx, grid)
    return _download(data, body.name, f"attendance-body-{body.id}")


async def _member_page(
    request: Request, session: StaffSession, body: Any, deputy_id: int, status: int = 200, error: str = ""
) -> Response:
    term_id = _term(request)
    async with snapshot_read(services(request).engine) as conn:
        member = await attendance_history.member(conn, body.id, deputy_id)
        if member is None:
            return message_page(
                "没有这位代表。", 404, back=f"/bodies/{body.id}/attendance", back_label="返回出勤汇总"
            )
        history = await attendance_history.member_history(conn, body.id, deputy_id, term_id)
        terms = await attendance_history.terms(conn, body.id)
        missed = (await attendance_history.session_absences(conn, body.id, deputy_id)).get(deputy_id, {})
    return page(
        "attendance_member",
        status=status,
        body=body,
        member=member,
        history=history,
        terms=terms,
        term_id=term_id,
        missed=max(missed.values(), key=len, default=[]),
        organ=attendance_history.organ(body.level),
        choices=STATUS_CHOICES,
        error=error,
        saved=request.query_params.get("saved") == "1",
        user=session,
        csrf=services(request).keys.csrf(session.sid),
    )


async def member_page(request: Request) -> Response:
    found = await _staff_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    deputy_id = int(request.path_params["deputy_id"])
    if request.method == "GET":
        return await _member_page(request, session, body, deputy_id)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    meeting_id = parse.row_id(form.get("meeting")) or 0
    note = parse.text(form.get("note"), 200, lines=True)
    try:
        if note is None:
            raise NotAllowed("更正说明不能超过 200 字，也不能含有特殊控制字符。")
        async with snapshot_read(services(request).engine) as conn:
            member = await attendance_history.member(conn, body.id, deputy_id)
            mine = {mt.id for mt, _ in await attendance_history.member_history(conn, body.id, deputy_id)}
        if member is None or meeting_id not in mine:
            raise NotAllowed("没有这条出勤记录。")
        async with meeting_write(services(request).engine, meeting_id) as conn:
            await correct(
                conn,
                meeting_id,
                deputy_id,
                form.get("status", ""),
                note,
                by=f"staff:{session.username}",
                device=device(request),
                now_ms=time.time_ns() // 1_000_000,
            )
    except NotAllowed as refused:
        return await _member_page(request, session, body, deputy_id, 400, error=str(refused))
    await services(request).meetings.records_changed()  # the phone's absence notice reads them
    return RedirectResponse(f"/bodies/{body.id}/deputies/{deputy_id}/attendance?saved=1", status_code=303)


async def member_xlsx(request: Request) -> Response:
    found = await _staff_body(request)
    if isinstance(found, Response):
        return found
    _, body = found
    deputy_id = int(request.path_params["deputy_id"])
    async with snapshot_read(services(request).engine) as conn:
        member = await attendance_history.member(conn, body.id, deputy_id)
        history = await attendance_history.member_history(conn, body.id, deputy_id, _term(request))
    if member is None:
        return message_page(
            "没有这位代表。", 404, back=f"/bodies/{body.id}/attendance", back_label="返回出勤汇总"
        )
    data = await services(request).workshop.run(attendance_export.member_xlsx, member, history)
    return _download(data, member.name, f"attendance-deputy-{deputy_id}")
