"""Responsible organs (承办单位): the staff page per body, its import, each organ's
printable notice, and the organ's own page behind its personal link (/o/<token>).

The import is two requests like the roster's (server/web/routes/roster.py): the upload
is read in the workshop and previewed with every row's error, nothing written; 确认导入
sends the kept upload's token, and the file is planned again inside the writing
transaction, all or nothing. The notice's QR code is drawn in the workshop too.

The organ's page needs no account: the link is the credential. A link we did not sign is
refused (403); a link of an earlier ``link_version`` says it was revoked (410), so the
organ knows to ask the office rather than retype it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base.days import today
from server.base.keys import StaffSession
from server.office import bodies as office_bodies
from server.office import card_qr, imports, organs
from server.storage.db import snapshot_read
from server.web.http import csrf_ok, device, message_page, page, require_staff, services, staff_form
from server.web.routes.roster import read_upload
from server.web.routes.uploads import forget, keep, take

KIND = "organs"
TAKEN = "该单位名称刚被他人使用，请刷新页面后再试"


async def _staff_and_body(request: Request) -> tuple[StaffSession, Any] | Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    async with services(request).engine.connect() as conn:
        body = await office_bodies.body(conn, int(request.path_params["body_id"]))
        await conn.commit()
    if body is None:
        return message_page(msg.edge("no_body"), 404)
    return session, body


async def _staff_body_and_form(request: Request) -> tuple[StaffSession, Any, dict[str, str]] | Response:
    """A staff form posted to one body's organs: who, which body, the CSRF-checked fields."""
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    return session, body, form


def _actor(session: StaffSession) -> str:
    return f"staff:{session.username}"


async def organs_page(request: Request) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    return await _render(request, session, body, saved=request.query_params.get("saved", ""))


async def _render(
    request: Request, session: StaffSession, body: Any, status: int = 200, **extra: Any
) -> Response:
    async with services(request).engine.connect() as conn:
        listed = await organs.organs_of(conn, body.id)
        await conn.commit()
    extra.setdefault("error", "")
    extra.setdefault("typed", {})
    extra.setdefault("saved", "")
    extra.setdefault("editing", 0)
    return page(
        "organs",
        status,
        body=body,
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        organs=listed,
        **extra,
    )


async def add(request: Request) -> Response:
    found = await _staff_body_and_form(request)
    if isinstance(found, Response):
        return found
    session, body, form = found
    try:
        async with services(request).engine.begin() as conn:
            await organs.add_organ(
                conn,
                body.id,
                form.get("name", ""),
                form.get("contact", ""),
                form.get("phone", ""),
                actor=_actor(session),
                device=device(request),
            )
    except organs.Refused as refused:
        return await _render(request, session, body, 400, error=str(refused), typed=form)
    except IntegrityError:  # the same name added at the same moment by another request
        return await _render(request, session, body, 400, error=TAKEN, typed=form)
    return RedirectResponse(f"/bodies/{body.id}/organs?saved=added", status_code=303)


async def _organ_of_body(request: Request, body: Any) -> organs.Organ | None:
    async with services(request).engine.connect() as conn:
        found = await organs.organ(conn, int(request.path_params["organ_id"]))
        await conn.commit()
    return found if found is not None and found.body_id == body.id else None


async def edit(request: Request) -> Response:
    found = await _staff_body_and_form(request)
    if isinstance(found, Response):
        return found
    session, body, form = found
    organ = await _organ_of_body(request, body)
    if organ is None:
        return message_page(
            "没有这个承办单位。", 404, back=f"/bodies/{body.id}/organs", back_label="返回承办单位"
        )
    try:
        async with services(request).engine.begin() as conn:
            await organs.edit_organ(
                conn,
                organ,
                form.get("name", ""),
                form.get("contact", ""),
                form.get("phone", ""),
                actor=_actor(session),
                device=device(request),
            )
    except organs.Refused as refused:
        return await _render(request, session, body, 400, error=str(refused), typed=form, editing=organ.id)
    except IntegrityError:  # renamed to a name added at the same moment
        return await _render(request, session, body, 400, error=TAKEN, typed=form, editing=organ.id)
    return RedirectResponse(f"/bodies/{body.id}/organs?saved=edited", status_code=303)


async def revoke(request: Request) -> Response:
    found = await _staff_body_and_form(request)
    if isinstance(found, Response):
        return found
    session, body, _form = found  # the form carries only the CSRF token
    organ = await _organ_of_body(request, body)
    if organ is None:
        return message_page(
            "没有这个承办单位。", 404, back=f"/bodies/{body.id}/organs", back_label="返回承办单位"
        )
    async with services(request).engine.begin() as conn:
        current = await organs.organ(conn, organ.id)  # the version now, not the one read before
        assert current is not None
        await organs.revoke_link(conn, current, actor=_actor(session), device=device(request))
    return RedirectResponse(f"/bodies/{body.id}/organs?saved=revoked", status_code=303)


async def notice(request: Request) -> Response:
    """The A4 notice handed to an organ: its name, its link as a QR code, what to do."""
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    _, body = found
    organ = await _organ_of_body(request, body)
    if organ is None:
        return message_page(
            "没有这个承办单位。", 404, back=f"/bodies/{body.id}/organs", back_label="返回承办单位"
        )
    url = organs.link_url(services(request).settings.public_url, services(request).keys, organ)
    svg, _png = await services(request).workshop.run(card_qr.draw, url)
    return page(
        "organ_notice",
        body=body,
        organ=organ,
        url=url,
        qr=svg,
        steps=organs.WHAT_TO_DO,
        day=today().isoformat(),
    )


async def notices(request: Request) -> Response:
    """Every organ's notice of the body at once, one A4 page each (the same sheet as
    :func:`notice`), their QR codes drawn together in the workshop."""
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    _, body = found
    async with services(request).engine.connect() as conn:
        listed = await organs.organs_of(conn, body.id)
        await conn.commit()
    svc = services(request)
    urls = [organs.link_url(svc.settings.public_url, svc.keys, o) for o in listed]
    codes = await svc.workshop.run(card_qr.draw_many, urls) if urls else []
    sheets = [(o, url, svg) for o, url, (svg, _png) in zip(listed, urls, codes, strict=True)]
    return page("organ_notices", body=body, sheets=sheets, steps=organs.WHAT_TO_DO, day=today().isoformat())


async def preview(request: Request) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    back = f"/bodies/{body.id}/organs"
    got = await read_upload(request)
    if isinstance(got, str):
        return message_page(got, 400, title="无法导入", back=back, back_label="返回承办单位")
    data, filename, fields = got
    if not csrf_ok(request, session.sid, fields):
        return message_page(msg.edge("csrf"), 403)
    try:
        plan = await _plan(request, session, body.id, data, filename, dry_run=True)
    except imports.ImportRefused as refused:
        return message_page(refused.message, 400, title="无法导入", back=back, back_label="返回承办单位")
    meta = {"sid": session.sid, "body_id": body.id, "kind": KIND, "filename": filename}
    token = "" if plan.errors else keep(request, data, meta)
    return _preview_page(request, session, body, plan, filename, token)


def _preview_page(
    request: Request, session: StaffSession, body: Any, plan: organs.OrgansPlan, filename: str, token: str
) -> Response:
    return page(
        "organs_preview",
        400 if plan.errors else 200,
        body=body,
        user=session,
        csrf=services(request).keys.csrf(session.sid),
        plan=plan,
        shown=plan.errors[: imports.MAX_ERRORS_SHOWN],
        filename=filename,
        token=token,
    )


async def confirm(request: Request) -> Response:
    found = await _staff_body_and_form(request)
    if isinstance(found, Response):
        return found
    session, body, form = found
    back, token = f"/bodies/{body.id}/organs", form.get("token", "")
    if (kept := take(request, token, session, body.id)) is None or kept[1].get("kind") != KIND:
        return message_page("上传的文件已过期，请重新上传。", 400, back=back, back_label="返回承办单位")
    forget(request, token)  # one confirmation per upload, whatever its outcome
    data, filename = kept[0], str(kept[1].get("filename", "upload"))
    try:
        plan = await _plan(request, session, body.id, data, filename, dry_run=False)
    except imports.ImportRefused as refused:
        return message_page(refused.message, 400, title="无法导入", back=back, back_label="返回承办单位")
    if plan.errors:  # the list changed since the preview
        return _preview_page(request, session, body, plan, filename, "")
    return message_page(
        f"导入完成：{plan.summary()}。", 200, title="导入完成", back=back, back_label="返回承办单位"
    )


async def _plan(
    request: Request, session: StaffSession, body_id: int, data: bytes, filename: str, *, dry_run: bool
) -> organs.OrgansPlan:
    engine = services(request).engine
    parsed = await services(request).workshop.run(organs.read_organs, data, filename)
    async with snapshot_read(engine) if dry_run else engine.begin() as conn:
        return await organs.import_organs(
            conn, body_id, parsed, filename, dry_run=dry_run, actor=_actor(session), device=device(request)
        )


async def organ_page(request: Request) -> Response:
    """What an organ sees through its link: its name and its own follow-up items."""
    async with services(request).engine.connect() as conn:
        found = await organs.organ_of_link(conn, services(request).keys, request.path_params["token"])
        items = await organs.items_of(conn, found.id) if isinstance(found, organs.Organ) else []
        body = await office_bodies.body(conn, found.body_id) if isinstance(found, organs.Organ) else None
        await conn.commit()
    if found == "revoked":
        return message_page(organs.REVOKED, 410, title="链接已停用")
    if not isinstance(found, organs.Organ):
        return message_page(organs.FORGED, 403, title="无法打开")
    due = organs.reminders(items, today())  # the China date
    token = request.path_params["token"]  # each item opens under the same link
    return page(
        "organ_page", organ=found, body=body, items=items, names=organs.STATUS_NAMES, due=due, token=token
    )
