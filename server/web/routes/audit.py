"""Staff pages for a meeting's audit trail: the page, and the CSV and XLSX downloads."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from screens import messages as msg
from server.base import parse
from server.office import audit_text, audit_trail
from server.storage.db import snapshot_read
from server.storage.store import MeetingNotFound
from server.web.http import message_page, page, require_staff, services

PAGE_SIZE = 100
MAX_PAGE = 999_999  # past the last page shows the last page
PREPARATION_SHOWN = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page_number(raw: str) -> int:
    return parse.integer(raw, 1, MAX_PAGE) or 1


async def audit_page(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    kind = request.query_params.get("type", "")
    kind = kind if kind in audit_text.EVENT_NAMES else ""
    number = _page_number(request.query_params.get("page", ""))
    async with snapshot_read(services(request).engine) as conn:
        try:
            names = await audit_trail.names_for(conn, meeting_id)
        except MeetingNotFound:
            return message_page(msg.edge("no_meeting"), 404)
        total = await audit_trail.count_events(conn, meeting_id, kind)
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(number, pages)
        rows = await audit_trail.event_rows(
            conn, names, kind=kind, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, newest_first=True
        )
        preparation = await audit_trail.preparation_rows(conn, names, newest_first=True)
    return page(
        "audit_trail",
        meeting_id=meeting_id,
        title=names.setup.title,
        when=msg.schedule_line(names.setup.held_on, names.setup.starts_at, names.setup.place),
        rows=rows,
        preparation=preparation[:PREPARATION_SHOWN],
        preparation_total=len(preparation),
        total=total,
        kind=kind,
        kinds=audit_text.EVENT_NAMES,
        number=number,
        pages=pages,
        type_q=quote(kind),
        user=session,
    )


async def _download(request: Request, ext: str) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    async with snapshot_read(services(request).engine) as conn:
        try:
            names, rows = await audit_trail.trail(conn, meeting_id)
        except MeetingNotFound:
            return message_page(msg.edge("no_meeting"), 404)
    workshop = services(request).workshop  # a long meeting's trail: seconds of openpyxl
    if ext == "csv":
        data, media_type = await workshop.run(audit_trail.to_csv, rows), "text/csv; charset=utf-8"
    else:
        data, media_type = await workshop.run(audit_trail.to_xlsx, rows), XLSX
    name = quote(audit_trail.filename(names.setup.title, ext))
    disposition = f"attachment; filename=\"audit-{meeting_id}.{ext}\"; filename*=UTF-8''{name}"
    return Response(data, media_type=media_type, headers={"content-disposition": disposition})


async def audit_csv(request: Request) -> Response:
    return await _download(request, "csv")


async def audit_xlsx(request: Request) -> Response:
    return await _download(request, "xlsx")
