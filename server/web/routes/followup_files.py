"""Staff post on an organ's behalf (a reply received on paper, progress told by phone) and
download any attachment: ``/followup/{item}/post`` and ``/followup/files/{file}``.

The form is on the item's page (server/web/routes/followup.py): progress or reply, which
of the item's organs it is from, the text, the class of a reply, the day of the work and
attachments. The post is the organ's, written by the staff member, and every page says
so (server/office/followup_posts.py ``byline``). The staff session and its CSRF token are
checked as on every staff form; the files are judged in the workshop.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.days import epoch_ms, today
from server.base.keys import StaffSession
from server.office import attachments, followup, followup_posts
from server.office.meeting_forms import Invalid
from server.web.http import csrf_ok, device, message_page, require_staff, services
from server.web.routes import followup as routes_followup
from server.web.routes.post_files import Posted, file_response, posted, write_post


async def post(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    item_id = int(request.path_params["item_id"])
    async with posted(request) as got:  # the files in memory while this runs: one of few turns
        return await _post(request, session, item_id, got)


async def _post(request: Request, session: StaffSession, item_id: int, got: Posted) -> Response:
    if isinstance(got, str):
        # The token is a field of the same form: with the form unreadable, nothing is
        # known to come from our page, so nothing more is said than the refusal.
        return message_page(got, 400, back=f"/followup/{item_id}", back_label="返回督办事项")
    fields, files = got
    if not csrf_ok(request, session.sid, fields):
        return message_page(msg.edge("csrf"), 403)
    again = routes_followup._item_page  # the item's page, with the error and what was typed
    try:
        checked = await services(request).workshop.run(attachments.check_files, files)
    except attachments.BadFile as refused:
        return await again(request, session, item_id, 400, errors={"files": str(refused)}, values=fields)
    kind = fields.get("kind", "")
    common: dict[str, Any] = {
        "organ_id": parse.row_id(fields.get("organ")),
        "text": fields.get("text", ""),
        "files": checked,
        "author": session.username,
        "on_behalf": True,
        "actor": f"staff:{session.username}",
        "device": device(request),
        "now_ms": epoch_ms(),
    }
    try:
        async with services(request).engine.begin() as conn:
            await write_post(conn, item_id, kind, fields, today(), **common)
    except Invalid as bad:
        if bad.errors.get("item"):
            return message_page(followup.TEXT["no_item"], 404, back="/bodies", back_label="返回机构列表")
        return await again(request, session, item_id, 400, errors=bad.errors, values=fields)
    return RedirectResponse(f"/followup/{item_id}?saved=post", status_code=303)


async def download(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    file_id = int(request.path_params["file_id"])
    async with services(request).engine.begin() as conn:
        found = await followup_posts.download(conn, file_id)
        if found is not None:
            who = {"by": session.username, "actor": f"staff:{session.username}", "device": device(request)}
            await followup_posts.record_download(conn, file_id, found, **who)
    if found is None:
        return message_page("没有这个附件。", 404, back="/bodies", back_label="返回机构列表")
    return file_response(found)
