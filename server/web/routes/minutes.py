"""The draft minutes (会议纪要) of a meeting as DOCX, for staff: ``/m/{id}/minutes.docx``.

Read in one snapshot (server/record/minutes_load.py), drawn in the workshop, off the loop
(server/record/minutes_docx.py). A draft for staff to edit in Word: the file's name says
草稿 too. The proceedings' print view (/m/{id}/record) and the meeting's edit page link here.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from screens import messages as msg
from server.record.minutes_docx import minutes_docx
from server.record.minutes_load import minutes_of
from server.storage.db import snapshot_read
from server.storage.store import MeetingNotFound
from server.web.http import message_page, require_staff, services

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def minutes_file(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    try:
        async with snapshot_read(services(request).engine) as conn:
            minutes = await minutes_of(conn, meeting_id)
    except MeetingNotFound:
        return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议管理")
    data = await services(request).workshop.run(minutes_docx, minutes)
    name = quote(f"{minutes.title}（草稿）.docx")
    plain = f"minutes-{meeting_id}-draft.docx"
    return Response(
        data,
        media_type=DOCX,
        headers={
            "content-disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{name}",
            "cache-control": "no-store",
        },
    )
