"""The chair's script (主持词): the live view at the rostrum, the printed copy, the wording.

The live view is a screen like the podium: staff logged in see it at once; a tablet at the
rostrum is paired once with a code entered on the console (kind "script") and then needs
no login. The printed copy and the wording page are for staff only. The wording may be
changed while the meeting runs (a typo found on the day): it is presence of mind, not a
rule, and every screen of the script shows the new wording at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from screens import script
from screens.view import View
from server.base.keys import StaffSession
from server.office import accounts, script_wording
from server.office import meetings_admin as admin
from server.storage import audit
from server.storage.db import meeting_write
from server.storage.store import MeetingNotFound
from server.web.http import (
    CONSOLE_ROLES,
    device,
    message_page,
    page,
    require_staff,
    services,
    staff,
    staff_form,
)
from server.web.routes.screen import screen_page


def _staff_ok(request: Request) -> bool:
    session = staff(request)
    if session is None or accounts.MUST_CHANGE in session.roles:
        return False
    return bool(session.roles & CONSOLE_ROLES)


async def live(request: Request) -> Response:
    """The tablet at the rostrum: staff, or a browser paired as the script screen."""
    if _staff_ok(request):
        meeting_id = int(request.path_params["meeting_id"])
        try:
            room = await services(request).meetings.room(meeting_id)
        except MeetingNotFound:
            return message_page(msg.edge("no_meeting"), 404)
        async with room.runtime.lock:
            view = View(room.runtime.state)
            return page("script", v=view, oob=False, staff=True)
    return await screen_page(request, "script")


async def printed(request: Request) -> Response:
    """The whole script for the agenda on A4, with blanks where the live figures go."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    try:
        room = await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return message_page(msg.edge("no_meeting"), 404)
    async with room.runtime.lock:
        state = room.runtime.state
        sections = script.printed_script(state)
        return page("script_print", v=View(state), script=sections)


def _values(stored: Mapping[str, str]) -> dict[str, str]:
    return {step.key: script.wording(stored, step.key) for step in script.STEPS}


async def _edit_page(
    request: Request,
    session: StaffSession,
    meeting_id: int,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    async with services(request).engine.connect() as conn:
        row = await admin.meeting_row(conn, meeting_id)
        await conn.commit()
    if row is None:
        return message_page(msg.edge("no_meeting"), 404)
    stored = script_wording.stored(row)
    return page(
        "script_edit",
        status=status,
        meeting=row,
        steps=script.STEPS,
        values=values or _values(stored),
        changed=set(stored),
        errors=errors or {},
        saved=request.query_params.get("saved", ""),
        csrf=services(request).keys.csrf(session.sid),
    )


async def edit(request: Request) -> Response:
    """The wording per step: save (unknown placeholders refused, nothing stored), or
    reset one step or all of them to the default."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    if request.method == "GET":
        return await _edit_page(request, session, meeting_id)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    reset = form.get("reset", "")
    if reset and reset != "all" and reset not in script.BY_KEY:
        return message_page(msg.edge("bad_request"), 400)
    edited: dict[str, str] = {}
    if not reset:
        try:
            edited = script.check_wording(form)
        except script.BadWording as bad:  # nothing stored: the page again, with what was typed
            values = {step.key: form.get(step.key, "") for step in script.STEPS}
            return await _edit_page(request, session, meeting_id, 400, values, bad.errors)
    async with meeting_write(services(request).engine, meeting_id) as conn:
        row = await admin.meeting_row(conn, meeting_id)
        if row is None:
            return message_page(msg.edge("no_meeting"), 404)
        current = script_wording.stored(row)
        if reset == "all":
            wanted: dict[str, str] = {}
        elif reset:
            wanted = {k: v for k, v in current.items() if k != reset}
        else:
            wanted = edited
        await script_wording.save(conn, meeting_id, row, wanted)
        await audit.record(
            conn,
            "meeting_edited",
            actor=f"staff:{session.username}",
            device=device(request),
            meeting_id=meeting_id,
            what=f"script_reset_{reset}" if reset else "script",
        )
    await services(request).meetings.setup_changed(meeting_id=meeting_id)
    saved = "reset" if reset else "saved"
    return RedirectResponse(f"/m/{meeting_id}/script/edit?saved={saved}", status_code=303)
