"""Duty records (履职记录), server/record/duty.py: staff pages, the export, the deputy's phone.

``/bodies/{body}/deputies/{deputy}/duty``: any member's record, for staff (linked from the
member's page). ``/bodies/{body}/duty.xlsx`` (``?group=`` for one group): the summary and
the detail sheets, built in the office's worker processes. ``/d/{meeting}/duty``: 我的履职,
the bound deputy's own record across the body's meetings, bound exactly as 我的督办
(routes/followup_phone.py): the meeting in the path only finds the phone's binding, and
no parameter names another deputy, so a phone never sees anyone's record but its own.

A closed meeting's facts are kept (server/record/duty_facts.py); one not yet kept is folded
in a worker process, as the workbook is built, so the first read after a session does not
hold up the hall (measured: docs/design.md, "Duty records").
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from screens import messages as msg
from server.base import parse
from server.base.days import moment_of_ms
from server.office import attendance_history, mandate_reads
from server.office import questions_admin as qa
from server.record import duty, duty_export, duty_facts
from server.storage.db import snapshot_read
from server.web.http import message_page, page, require_staff, services
from server.web.routes.questions import bound_phone


def _runner(request: Request) -> duty_facts.Runner:
    """Fold the meetings not yet kept in the worker processes (shared between them), each
    reading the database itself."""
    svc = services(request)
    url = svc.engine.url.render_as_string(hide_password=False)

    async def run(meeting_ids: list[int]) -> dict[int, duty_facts.MeetingFacts]:
        size = svc.workshop.size
        parts = [meeting_ids[i::size] for i in range(size) if meeting_ids[i::size]]
        done = await asyncio.gather(*(svc.workshop.run(duty_facts.facts_in_worker, url, p) for p in parts))
        return {k: v for part in done for k, v in part.items()}

    return run


async def _staff_body(request: Request) -> Any:
    """The body of the path for a staff user: a Response (login, 404) or the body's row."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    async with snapshot_read(services(request).engine) as conn:
        body = await attendance_history.body(conn, int(request.path_params["body_id"]))
    if body is None:
        return message_page(msg.edge("no_body"), 404, back="/bodies", back_label="返回机构列表")
    return body


async def staff_page(request: Request) -> Response:
    body = await _staff_body(request)
    if isinstance(body, Response):
        return body
    deputy_id = int(request.path_params["deputy_id"])
    async with snapshot_read(services(request).engine) as conn:
        record = await duty.deputy_record(conn, body.id, deputy_id, _runner(request))
        group_id = (await duty.groups_of(conn, {deputy_id})).get(deputy_id)
        mandates = await mandate_reads.mandates_of(conn, deputy_id)
    if record is None:
        return message_page(
            "没有这位代表。", 404, back=f"/bodies/{body.id}/roster", back_label="返回代表名单"
        )
    return page(
        "duty_staff",
        body=body,
        r=record,
        t=record.totals,
        codes=attendance_history.CODE_NAMES,
        organ=attendance_history.organ(body.level),
        duration=duty_export.duration,
        moment=moment_of_ms,
        group_id=group_id,
        mandates=mandates,
    )


async def body_xlsx(request: Request) -> Response:
    body = await _staff_body(request)
    if isinstance(body, Response):
        return body
    raw = request.query_params.get("group")
    group_id = parse.row_id(raw) if raw is not None else None
    async with snapshot_read(services(request).engine) as conn:
        name = str(body.name)
        if raw is not None:
            group = await duty.group_name(conn, body.id, group_id) if group_id else None
            if group is None:
                return message_page(
                    "没有这个代表小组。", 404, back=f"/bodies/{body.id}/roster", back_label="返回代表名单"
                )
            name = f"{body.name}-{group}"
        records = await duty.body_records(conn, body.id, group_id, _runner(request))
    data = await services(request).workshop.run(duty_export.duty_xlsx, records)
    ascii_name = f"duty-body-{body.id}" + (f"-group-{group_id}" if group_id else "")
    disposition = (
        f"attachment; filename=\"{ascii_name}.xlsx\"; filename*=UTF-8''{quote(duty_export.filename(name))}"
    )
    return Response(data, media_type=duty_export.XLSX, headers={"content-disposition": disposition})


async def _body_of(request: Request, meeting_id: int) -> int:
    async with snapshot_read(services(request).engine) as conn:
        row = await qa.meeting(conn, meeting_id)
    return int(row.body_id)  # bound_phone answered 404 for a meeting that does not exist


async def phone_page(request: Request) -> Response:
    meeting_id = int(request.path_params["meeting_id"])
    binding = await bound_phone(request, meeting_id)
    if isinstance(binding, Response):
        return binding
    body_id = await _body_of(request, meeting_id)
    async with snapshot_read(services(request).engine) as conn:
        record = await duty.deputy_record(conn, body_id, binding.deputy_id, _runner(request))
        body = await attendance_history.body(conn, body_id)
        mandates = await mandate_reads.mandates_of(conn, binding.deputy_id)
    if record is None:  # bound_phone found the deputy in this body: a race with a removal
        return message_page("没有这位代表。", 404, back=f"/d/{meeting_id}", back_label="返回代表页面")
    return page(
        "duty_phone",
        meeting_id=meeting_id,
        r=record,
        t=record.totals,
        organ=attendance_history.organ(body.level) if body else "",
        duration=duty_export.duration,
        mandates=mandates,
    )
