"""The progress report to the next session, for staff (server/office/followup_report.py).

``/bodies/{body}/followup/report``: choose the scope (every item of the body, or the items
of some of its meetings: a GET form, so the overview offered is recounted for it), the
title, the date and the overview — prefilled with the counts, for staff to edit — and
generate: the report is saved with its counts and audit entry, then the page comes back
and downloads it (post/redirect/get: a reload does not make a second report). Earlier
reports are listed there; ``…/report/{id}`` downloads one again, rebuilt as of its making.
The DOCX is drawn in the workshop, off the loop.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.base import parse
from server.base.days import BadDay, epoch_ms, moment_of_ms, parse_day, today
from server.base.keys import StaffSession
from server.office import bodies as office_bodies
from server.office import followup_report as report
from server.office import followup_report_items
from server.office.followup_report_docx import report_docx
from server.office.meeting_forms import Invalid
from server.web.http import device, message_page, page, require_staff, services, staff_form

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _scope(names: Any) -> list[int] | None:
    """The meetings ticked (``meeting_<id>``); [] = the whole body, None = a forged id."""
    ids = parse.suffixed_ids(names, "meeting_")
    return None if ids is None else sorted(set(ids))


async def _page(
    request: Request,
    session: StaffSession,
    body_id: int,
    scope: list[int] | None,
    status: int = 200,
    **extra: Any,
) -> Response:
    errors: dict[str, str] = extra.pop("errors", {})
    if scope is None:
        errors, scope = {**errors, "scope": report.TEXT["unknown_meeting"]}, []
    day = today()
    async with services(request).engine.connect() as conn:
        body = await office_bodies.body(conn, body_id)
        saved = await report.saved_reports(conn, body_id)
        meetings = await report.meetings_of(conn, body_id)
        known = {mid for mid, _, _ in meetings}
        if not set(scope) <= known:
            errors, scope = {**errors, "scope": report.TEXT["unknown_meeting"]}, []
        items = await followup_report_items.gather(conn, body_id, scope, epoch_ms())
        await conn.commit()
    if body is None:
        return message_page(report.TEXT["no_body"], 404, back="/bodies", back_label="返回机构列表")
    counts = report.counts_of(items)
    titles = [title for mid, title, _ in meetings if mid in scope]
    made = parse.row_id(request.query_params.get("made"))
    return page(
        "followup_report",
        status=status,
        body=body,
        meetings=meetings,
        meeting_titles={mid: title for mid, title, _ in meetings},
        scope=scope,
        counts=counts,
        keys=report.COUNT_KEYS,
        values=extra.pop("values", {}),
        errors=errors,
        default_title=report.DEFAULT_TITLE,
        default_overview=report.default_overview(str(body.name), titles, counts, day),
        today=day.isoformat(),
        max_title=report.MAX_TITLE,
        max_overview=report.MAX_OVERVIEW,
        saved=saved,
        made=made if made in {s.id for s in saved} else None,
        when=moment_of_ms,
        user=session,
        csrf=services(request).keys.csrf(session.sid),
    )


async def report_page(request: Request) -> Response:
    """The page (GET); POST makes a report and comes back to download it."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    body_id = int(request.path_params["body_id"])
    if request.method == "GET":
        return await _page(request, session, body_id, _scope(request.query_params.keys()))
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    scope = _scope(form.keys())
    try:
        if scope is None:
            raise Invalid({"scope": report.TEXT["unknown_meeting"]})
        try:
            dated = parse_day(form.get("dated", ""), "报告日期")
        except BadDay as bad:
            raise Invalid({"dated": str(bad)}) from None
        async with services(request).engine.begin() as conn:
            report_id, _ = await report.make_report(
                conn,
                body_id,
                title=form.get("title", ""),
                overview=form.get("overview", ""),
                meeting_ids=scope,
                dated=dated,
                actor=f"staff:{session.username}",
                device=device(request),
                now_ms=epoch_ms(),
            )
    except Invalid as bad:
        if bad.errors.get("body"):
            return message_page(bad.errors["body"], 404, back="/bodies", back_label="返回机构列表")
        return await _page(request, session, body_id, scope or [], 400, errors=bad.errors, values=form)
    return RedirectResponse(f"/bodies/{body_id}/followup/report?made={report_id}", status_code=303)


async def report_file(request: Request) -> Response:
    """A saved report as DOCX, rebuilt as of its making (drawn in the workshop)."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    body_id, report_id = int(request.path_params["body_id"]), int(request.path_params["report_id"])
    async with services(request).engine.connect() as conn:
        built = await report.rebuild(conn, body_id, report_id)
        await conn.commit()
    if built is None:
        return message_page(report.TEXT["no_report"], 404, back=f"/bodies/{body_id}/followup/report")
    data = await services(request).workshop.run(report_docx, built)
    name = quote(f"{built.title}-{built.dated.isoformat()}.docx")
    plain = f"report-{report_id}.docx"
    return Response(
        data,
        media_type=DOCX,
        headers={
            "content-disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{name}",
            "cache-control": "no-store",
        },
    )
