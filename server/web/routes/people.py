"""Staff pages that edit one deputy or one official of a body, by hand.

Each edit is checked like a row of an import (server/office/imports.py), written with its
audit entry in one transaction, and reaches open screens at once (``setup_changed``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.days import today
from server.base.keys import StaffSession
from server.office import bodies as office_bodies
from server.office import exports, imports, mandates, roster_import
from server.web.http import csrf_ok, form_of, message_page, page, services
from server.web.routes.roster import _audit, _context, _staff_and_body


def _readable(values: dict[str, str], errors: list[imports.RowError]) -> None:
    """A control character in a field is refused (PostgreSQL refuses NUL in a text column)."""
    for key, value in values.items():
        if parse.text(value, len(value), lines=key == "notes") is None:
            errors.append(imports.RowError(0, key, "含有无法识别的字符（如控制字符），请删去后重试"))


async def render_deputy(
    request: Request,
    session: StaffSession,
    body: Any,
    deputy_id: int,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: list[imports.RowError] | None = None,
    **extra: Any,
) -> Response:
    """The member's page: the edit form, the mandates and suspensions, and the forms that
    end a mandate, suspend and end a suspension (``extra``: a refused form's error,
    ``failed`` naming it, and its ``typed`` values)."""
    async with services(request).engine.connect() as conn:
        deputy = next((r for r in await exports.roster_rows(conn, body.id) if r.id == deputy_id), None)
        group_names = list(await roster_import.group_ids(conn, body.id))
        member = await mandates.member(conn, body.id, deputy_id, today())
        await conn.commit()
    if deputy is None or member is None:
        return message_page("没有这位代表。", 404, back=f"/bodies/{body.id}/roster", back_label="返回名册")
    if values is None:
        values = {"name": deputy.name, "group": deputy.group, "phone": deputy.phone, "notes": deputy.notes}
    for key, default in (("error", ""), ("failed", ""), ("typed", {}), ("done", "")):
        extra.setdefault(key, default)
    return page(
        "roster_edit",
        status=status,
        **_context(
            request,
            session,
            body,
            deputy=deputy,
            member=member,
            values=values,
            groups=group_names,
            errors={e.field: e.message for e in errors or []},
            end_reasons=mandates.END_REASONS,
            done_text=DONE.get(str(extra.pop("done")), ""),
            today=today().isoformat(),
            **extra,
        ),
    )


DONE = {
    "ended": "已记录代表资格终止。",
    "suspended": "已记录暂停执行代表职务。",
    "resumed": "已记录恢复执行代表职务。",
    "added": "已补选该代表。",
}


async def edit_deputy(request: Request) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    deputy_id = int(request.path_params["deputy_id"])
    if request.method != "POST":
        return await render_deputy(
            request, session, body, deputy_id, done=request.query_params.get("done", "")
        )
    svc = services(request)
    async with svc.engine.connect() as conn:
        deputy = next(
            (r for r in await exports.roster_rows(conn, body.id) if r.id == deputy_id),
            None,
        )
        group_names = list(await roster_import.group_ids(conn, body.id))
        await conn.commit()
    if deputy is None:
        return message_page("没有这位代表。", 404, back=f"/bodies/{body.id}/roster", back_label="返回名册")
    values = {"name": deputy.name, "group": deputy.group, "phone": deputy.phone, "notes": deputy.notes}
    errors: list[imports.RowError] = []
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    values = {k: form.get(k, "") for k in values}
    _readable(values, errors)
    cells = {**values, "card_no": deputy.card_no}
    row = imports.check_deputy(0, cells, errors)
    if row.group and row.group not in group_names:
        errors.append(imports.RowError(0, "group", f"没有“{row.group}”这个小组"))
    if errors:
        return await render_deputy(
            request, session, body, deputy_id, status=400, values=values, errors=errors
        )
    async with svc.engine.begin() as conn:
        groups = await roster_import.group_ids(conn, body.id)
        await office_bodies.update_deputy(conn, body.id, deputy_id, row, groups[row.group])
        await _audit(
            request,
            session,
            conn,
            "deputy_edited",
            body.id,
            deputy_id=deputy_id,
            card_no=deputy.card_no,
        )
    await svc.meetings.setup_changed(body_id=body.id)
    return RedirectResponse(f"/bodies/{body.id}/roster?saved={deputy_id}", status_code=303)


async def edit_official(request: Request) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    official_id = int(request.path_params["official_id"])
    svc = services(request)
    async with svc.engine.connect() as conn:
        official = await office_bodies.official(conn, body.id, official_id)
        await conn.commit()
    back = f"/bodies/{body.id}/roster"
    if official is None:
        return message_page("没有这位应询人。", 404, back=back, back_label="返回名册")
    values = {"name": official.name, "title": official.title, "organisation": official.organisation}
    errors: list[imports.RowError] = []
    if request.method == "POST":
        form = await form_of(request)
        if form is None or not csrf_ok(request, session.sid, form):
            return message_page(msg.edge("csrf"), 403)
        values = {k: form.get(k, "").strip() for k in values}
        _readable(values, errors)
        row = imports.check_official(0, values, errors)
        if not errors:
            async with svc.engine.begin() as conn:
                await office_bodies.update_official(conn, body.id, official_id, row)
                await _audit(request, session, conn, "official_edited", body.id, official_id=official_id)
            await svc.meetings.setup_changed(body_id=body.id)
            return RedirectResponse(f"{back}?saved=official", status_code=303)
    return page(
        "roster_official",
        status=400 if errors else 200,
        **_context(
            request,
            session,
            body,
            official=official,
            values=values,
            errors={e.field: e.message for e in errors},
        ),
    )
