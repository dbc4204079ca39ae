"""Staff actions on rehearsals (彩排): create one from a real meeting, reset one.

``POST /meetings/{id}/rehearsal`` clones the real meeting as a rehearsal
(:func:`server.office.rehearsals.create`); ``POST /meetings/{id}/rehearsal/reset`` deletes
what a rehearsal recorded (:func:`server.office.rehearsals.reset`) under the meeting's
write lock while the loaded room's writer waits, then the room reloads
(``Meetings.rewrite_log``). A real meeting is refused with a Chinese page (409), and
nothing changes.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.office import rehearsals
from server.office.meeting_forms import Invalid
from server.storage.db import meeting_write
from server.web.http import csrf_ok, device, form_of, message_page, require_staff, services


async def _staff_form(request: Request) -> tuple[str, Response | None]:
    session = require_staff(request)
    if isinstance(session, Response):
        return "", session
    form = await form_of(request)
    if form is None:
        return "", message_page(msg.edge("bad_request"), 400)
    if not csrf_ok(request, session.sid, form):
        return "", message_page(msg.edge("csrf"), 403)
    return f"staff:{session.username}", None


def _refused(meeting_id: int, bad: Invalid) -> Response:
    text = "".join(bad.errors.values())
    status = 404 if text == rehearsals.TEXT["no_meeting"] else 409
    return message_page(text, status, back="/meetings", back_label="返回会议列表")


async def create(request: Request) -> Response:
    actor, refusal = await _staff_form(request)
    if refusal is not None:
        return refusal
    meeting_id = int(request.path_params["meeting_id"])
    now = int(time.time() * 1000)
    try:
        async with services(request).engine.begin() as conn:
            new_id = await rehearsals.create(
                conn, meeting_id, actor=actor, device=device(request), now_ms=now
            )
    except Invalid as bad:
        return _refused(meeting_id, bad)
    return RedirectResponse(f"/meetings/{new_id}/edit?saved=rehearsal", status_code=303)


async def reset(request: Request) -> Response:
    actor, refusal = await _staff_form(request)
    if refusal is not None:
        return refusal
    meeting_id = int(request.path_params["meeting_id"])
    svc = services(request)

    async def change() -> dict[str, int]:
        async with meeting_write(svc.engine, meeting_id) as conn:
            return await rehearsals.reset(conn, meeting_id, actor=actor, device=device(request))

    try:
        await svc.meetings.rewrite_log(meeting_id, change)
    except Invalid as bad:
        return _refused(meeting_id, bad)
    return RedirectResponse(f"/meetings/{meeting_id}/edit?saved=reset", status_code=303)
