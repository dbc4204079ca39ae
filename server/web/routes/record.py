"""The proceedings (会议记录) of a meeting, for staff (server/record/proceedings.py).

``/m/{id}/record``: the print view (A4 print CSS) with the form for the chair's name (主持人)
and the staff's free paragraph, saved by POST (post/redirect/get; a refused note comes
back with what was typed and why, nothing stored), and the buttons to the Word file, the
draft minutes and the results.
``/m/{id}/record.docx``: the same document model as a Word file, drawn in the workshop.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base.days import epoch_ms
from server.base.keys import StaffSession
from server.office import meeting_forms
from server.record import proceedings_store as store
from server.record.proceedings_docx import proceedings_docx_drawn
from server.storage.db import meeting_write, snapshot_read
from server.storage.store import MeetingNotFound
from server.web.http import csrf_ok, device, form_of, message_page, page, require_staff, services

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _gather(request: Request, meeting_id: int) -> store.RecordPage | None:
    async with snapshot_read(services(request).engine) as conn:
        try:
            return await store.gather(conn, meeting_id, epoch_ms())
        except MeetingNotFound:
            return None


async def _page(
    request: Request, session: StaffSession, meeting_id: int, status: int = 200, **extra: object
) -> Response:
    found = await _gather(request, meeting_id)
    if found is None:
        return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
    return page(
        "record",
        status=status,
        p=found.doc,
        meeting_id=meeting_id,
        found=found,
        chair=extra.pop("chair", found.chair),
        note=extra.pop("note", found.note),
        error=extra.pop("error", ""),
        saved=request.query_params.get("saved") == "1",
        max_note=store.MAX_NOTE,
        max_chair=meeting_forms.CHAIR_MAX,
        csrf=services(request).keys.csrf(session.sid),
    )


async def record_page(request: Request) -> Response:
    """The print view (GET); POST saves the free paragraph and comes back to it."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    if request.method == "GET":
        return await _page(request, session, meeting_id)
    # Read with room beyond the note's limit (line ends count twice as typed), so a note
    # too long is refused by its own message, not the generic one of an oversized form.
    form = await form_of(request, max_field=4 * store.MAX_NOTE, max_bytes=64 * store.MAX_NOTE)
    if form is None:
        return message_page(msg.edge("bad_request"), 400)
    if not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    chair, note = form.get("chair", ""), form.get("note", "")
    try:
        async with meeting_write(services(request).engine, meeting_id) as conn:
            known = await store.save_note(
                conn, meeting_id, chair, note, actor=f"staff:{session.username}", device=device(request)
            )
    except store.BadNote as bad:
        return await _page(request, session, meeting_id, 400, chair=chair, note=note, error=str(bad))
    if not known:
        return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
    return RedirectResponse(f"/m/{meeting_id}/record?saved=1#note", status_code=303)


async def record_docx(request: Request) -> Response:
    """The proceedings as a Word file (drawn in the workshop, off the loop)."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    found = await _gather(request, meeting_id)
    if found is None:
        return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
    data = await services(request).workshop.run(proceedings_docx_drawn, found.doc, found.chart_rows)
    plain, name = f"record-{meeting_id}.docx", quote(found.doc.file_name)
    return Response(
        data,
        media_type=DOCX,
        headers={
            "content-disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{name}",
            "cache-control": "no-store",
        },
    )
