"""An organ's own follow-up item behind its link: /o/<token>/items/<item> and its files.

The link is the credential (server/web/routes/organs.py): a link we did not sign gets
403, a revoked one 410, and an item that is not this organ's answers exactly as an item
that does not exist (404), so a link cannot probe which items there are. Files download
only from the organ's own items.

The organ has no session, so its forms carry a token of their own instead:
:meth:`server.base.keys.Keys.organ_form`, derived from the organ and the link's version
(a revoked link's open forms stop working), and the request must come from our own
origin when the browser says where it comes from (``Origin``, ``Sec-Fetch-Site``).
docs/design.md, "The organ's forms", says why both.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.base.days import epoch_ms, moment_of_ms, today
from server.base.keys import same
from server.office import attachments, followup_posts, followup_reads, organs
from server.office import bodies as office_bodies
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.web.http import device, message_page, page, same_origin, services
from server.web.routes.post_files import Posted, file_response, post_form, posted, write_post

NO_ITEM = "没有这个督办事项，或它不由本单位承办。"
NO_FILE = "没有这个附件，或它不属于本单位承办的事项。"
FORM_EXPIRED = "表单已失效（链接可能已换发），请重新打开本单位的链接后再提交。"


async def _organ(request: Request) -> organs.Organ | Response:
    async with services(request).engine.connect() as conn:
        found = await organs.organ_of_link(conn, services(request).keys, request.path_params["token"])
        await conn.commit()
    if found == "revoked":
        return message_page(organs.REVOKED, 410, title="链接已停用")
    if not isinstance(found, organs.Organ):
        return message_page(organs.FORGED, 403, title="无法打开")
    return found


def _from_our_page(request: Request) -> bool:
    """The browser says the form came from one of our pages (or says nothing: no browser)."""
    site = request.headers.get("sec-fetch-site")
    return same_origin(request) and site in (None, "same-origin", "none")


async def _view(request: Request, organ: organs.Organ, item_id: int) -> tuple[Any, dict[str, Any]] | None:
    """The item and what its page shows, or None when it is not this organ's."""
    async with services(request).engine.connect() as conn:
        view = await followup_reads.item_view(conn, item_id)
        if view is None or organ.id not in {oid for oid, _, _ in view.organs}:
            await conn.commit()
            return None
        files = await followup_posts.files_of(conn, [int(p.id) for p in view.posts])
        names = await followup_posts.organ_names(conn, int(view.item.body_id))
        body = await office_bodies.body(conn, int(view.item.body_id))
        await conn.commit()
    return view, {"files": files, "names": names, "body": body}


async def _page(
    request: Request, organ: organs.Organ, item_id: int, status: int = 200, **extra: Any
) -> Response:
    found = await _view(request, organ, item_id)
    if found is None:
        return message_page(NO_ITEM, 404, title="无法打开")
    view, more = found
    item, day = view.item, today()
    lead = next((is_lead for oid, _, is_lead in view.organs if oid == organ.id), False)
    return page(
        "organ_item",
        status,
        organ=organ,
        token=request.path_params["token"],
        view=view,
        item=item,
        lead=lead,
        can_reply=lead and item.status in rules.WAITING,
        open=item.status != rules.CLOSED,
        overdue=rules.overdue(item.status, item.reply_due, day),
        soon=rules.due_within(item.status, item.reply_due, day, organs.SOON_DAYS),
        soon_days=organs.SOON_DAYS,
        statuses=rules.STATUSES,
        classes=rules.CLASSES,
        when=moment_of_ms,
        byline=lambda p: followup_posts.byline(p, more["names"]),
        work_dated=followup_posts.work_dated,
        files=more["files"],
        body=more["body"],
        form=post_form(day, view),
        csrf=services(request).keys.organ_form(organ.id, organ.link_version),
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        saved=request.query_params.get("saved", ""),
    )


async def item_page(request: Request) -> Response:
    """The organ's item (GET); POST ``action``: progress, or reply (the lead organ)."""
    organ = await _organ(request)
    if isinstance(organ, Response):
        return organ
    item_id = int(request.path_params["item_id"])
    if request.method == "GET":
        return await _page(request, organ, item_id)
    if not _from_our_page(request):
        return message_page(FORM_EXPIRED, 403, title="无法提交")
    async with posted(request) as got:  # the files in memory while this runs: one of few turns
        return await _post(request, organ, item_id, got)


async def _post(request: Request, organ: organs.Organ, item_id: int, got: Posted) -> Response:
    fields = got[0] if not isinstance(got, str) else {}
    if not isinstance(got, str) and not same(
        fields.get("csrf", ""), services(request).keys.organ_form(organ.id, organ.link_version)
    ):
        return message_page(FORM_EXPIRED, 403, title="无法提交")
    if await _view(request, organ, item_id) is None:  # not its own: as if there were none
        return message_page(NO_ITEM, 404, title="无法打开")
    if isinstance(got, str):
        return await _page(request, organ, item_id, 400, errors={"files": got})
    action = fields.get("action", "")
    try:
        checked = await services(request).workshop.run(attachments.check_files, got[1])
    except attachments.BadFile as refused:
        return await _page(request, organ, item_id, 400, errors={"files": str(refused)}, values=fields)
    common: dict[str, Any] = {
        "organ_id": organ.id,
        "text": fields.get("text", ""),
        "files": checked,
        "author": organ.name,
        "on_behalf": False,
        "actor": f"organ:{organ.id}",
        "device": device(request),
        "now_ms": epoch_ms(),
    }
    try:
        async with services(request).engine.begin() as conn:
            await write_post(conn, item_id, action, fields, today(), **common)
    except Invalid as bad:
        return await _page(request, organ, item_id, 400, errors=bad.errors, values=fields)
    token = request.path_params["token"]
    return RedirectResponse(f"/o/{token}/items/{item_id}?saved={action}", status_code=303)


async def download(request: Request) -> Response:
    """A file of one of the organ's own items."""
    organ = await _organ(request)
    if isinstance(organ, Response):
        return organ
    file_id = int(request.path_params["file_id"])
    async with services(request).engine.begin() as conn:
        found = await followup_posts.download(conn, file_id, organ.id)
        if found is not None:
            who = {"by": organ.name, "actor": f"organ:{organ.id}", "device": device(request)}
            await followup_posts.record_download(conn, file_id, found, **who)
    if found is None:
        return message_page(NO_FILE, 404, title="无法下载")
    return file_response(found)
