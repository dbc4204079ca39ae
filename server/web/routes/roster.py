"""Staff pages for a body's roster: view, import with a preview, export, edit one deputy.

The import is two requests. The upload is checked (nothing written) and its bytes are
kept on disk (server/web/routes/uploads.py); the preview's "确认导入" sends only the token,
the new members' start date and, for each current member the file does not list
(名册中未出现), keep or end (server/web/routes/roster_choices.py). The confirmation checks
those choices against a fresh plan first (a bad one shows the preview again, the upload
still usable), then plans again inside the writing transaction, so a roster changed in
the meantime is checked afresh, and writes all or nothing.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from screens import messages as msg
from server.base import parse
from server.base.days import BadDay, parse_optional_day, today
from server.base.keys import StaffSession
from server.office import attendance_history, exports, imports, mandates, meetings_admin, roster_import
from server.office import bodies as office_bodies
from server.storage import audit, members
from server.storage.db import snapshot_read
from server.web.http import csrf_ok, device, form_of, message_page, page, require_staff, services
from server.web.routes.roster_choices import MAX_CHOICE_BYTES, MAX_CHOICE_FIELDS, read_choices
from server.web.routes.uploads import forget, keep, take

# -- pages ------------------------------------------------------------------------------


async def _body(request: Request) -> Any:
    async with services(request).engine.connect() as conn:
        row = await office_bodies.body(conn, int(request.path_params["body_id"]))
        await conn.commit()
    return row


async def _staff_and_body(request: Request) -> tuple[StaffSession, Any] | Response:
    """The staff session and the body of the path, or the page that says why not."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    body = await _body(request)
    if body is None:
        return message_page(msg.edge("no_body"), 404)
    return session, body


def _context(request: Request, session: StaffSession, body: Any, **extra: Any) -> dict[str, Any]:
    return {"body": body, "user": session, "csrf": services(request).keys.csrf(session.sid), **extra}


async def roster(request: Request) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    return await render_roster(request, session, body, saved=request.query_params.get("saved", ""))


async def render_roster(
    request: Request, session: StaffSession, body: Any, status: int = 200, **extra: Any
) -> Response:
    """The roster page: current members by group, the suspended, former members; the
    by-election form (``extra`` carries its error and typed values when refused)."""
    async with services(request).engine.connect() as conn:
        rows = await exports.roster_rows(conn, body.id)
        group_names = list(await roster_import.group_ids(conn, body.id))
        officials = await office_bodies.officials(conn, body.id)
        recent = await audit.entries(conn, body.id)
        card_meetings = await meetings_admin.titles(conn, body.id)
        people = {p.id: p for p in await mandates.members_of(conn, body.id, today())}
        warnings = await attendance_history.warnings(conn, body.id)  # 代表法 §49
        await conn.commit()
    current = [r for r in rows if r.id in people and not people[r.id].former]
    by_group = {name: list(members) for name, members in groupby(current, key=lambda r: r.group)}
    grouped = [(name, by_group.get(name, [])) for name in group_names]
    former = [people[r.id] for r in rows if r.id in people and people[r.id].former]
    former.sort(key=lambda p: p.mandates[-1].ends_on or today(), reverse=True)
    suspended = [people[r.id] for r in current if people[r.id].suspension is not None]
    extra.setdefault("typed", {})
    extra.setdefault("error", "")
    extra.setdefault("saved", request.query_params.get("saved", ""))
    return page(
        "roster_body",
        status,
        **_context(
            request,
            session,
            body,
            grouped=grouped,
            total=len(current),
            people=people,
            former=former,
            suspended=suspended,
            officials=officials,
            card_meetings=card_meetings,
            recent=recent,
            today=today().isoformat(),
            warnings=warnings,
            organ=attendance_history.organ(body.level),
            **extra,
        ),
    )


async def read_upload(request: Request) -> tuple[bytes, str, dict[str, str]] | str:
    """The uploaded file's bytes and name, and the form's text fields; or a Chinese refusal."""
    length = request.headers.get("content-length")
    size = parse.integer(length, 0, 10**10 - 1) if length is not None else 0
    if size is None:
        return "上传失败，请重新选择文件。"
    if size > imports.MAX_BYTES + 64 * 1024:
        return f"文件太大：最大 {imports.MAX_BYTES // (1024 * 1024)} MB。"
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception:
        return "上传失败，请重新选择文件。"
    try:  # closed on every way out: a file sent under another name is a temporary file too
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return "请选择要导入的文件（.xlsx 或 .csv）。"
        data = await upload.read(imports.MAX_BYTES + 1)
    finally:
        await form.close()
    return data, upload.filename, fields


async def _plan(
    request: Request,
    session: StaffSession,
    kind: str,
    body_id: int,
    data: bytes,
    filename: str,
    create_groups: bool,
    dry_run: bool,
    starts_on: dt.date | None = None,
    choices: dict[int, roster_import.EndChoice] | None = None,
) -> imports.RosterPlan | imports.OfficialsPlan:
    engine = services(request).engine
    by = f"staff:{session.username}"
    # Reading and checking the file is CPU work (3,000 rows: a good part of a second): in
    # the workshop, so the hall is answered meanwhile. The database work stays here.
    workshop = services(request).workshop
    officials = deputies = None
    if kind == "officials":
        officials = await workshop.run(imports.read_officials, data, filename)
    else:
        deputies = await workshop.run(imports.read_roster, data, filename)
    # A preview only reads: a snapshot takes no write lock away from a meeting in session.
    async with snapshot_read(engine) if dry_run else engine.begin() as conn:
        plan: imports.RosterPlan | imports.OfficialsPlan
        if officials is not None:
            plan = await imports.import_officials(conn, body_id, officials, filename, dry_run=dry_run)
        else:
            assert deputies is not None
            plan = await roster_import.import_roster(
                conn,
                body_id,
                deputies,
                filename,
                create_groups=create_groups,
                dry_run=dry_run,
                starts_on=starts_on,
                choices=choices,
                by=by,
                device=device(request),
            )
        if not dry_run and not plan.errors:
            more = {"starts_on": starts_on.isoformat()} if starts_on else {}
            summary = plan.summary()
            await _audit(
                request, session, conn, f"{kind}_imported", body_id, file=filename, summary=summary, **more
            )
        return plan


async def _audit(
    request: Request, session: StaffSession, conn: Any, action: str, body_id: int, **detail: Any
) -> None:
    await audit.record(
        conn, action, actor=f"staff:{session.username}", device=device(request), body_id=body_id, **detail
    )


def _preview_page(
    request: Request,
    session: StaffSession,
    body: Any,
    kind: str,
    plan: imports.RosterPlan | imports.OfficialsPlan,
    status: int | None = None,
    **extra: Any,
) -> Response:
    extra.setdefault("typed", {})
    extra.setdefault("choice_errors", [])
    extra.setdefault("starts_on", "")
    return page(
        "roster_preview",  # a plan with errors is refused: 400, like the edit pages' errors
        status or (400 if plan.errors else 200),
        **_context(
            request,
            session,
            body,
            kind=kind,
            plan=plan,
            shown=plan.errors[: imports.MAX_ERRORS_SHOWN],
            end_reasons=mandates.END_REASONS,
            **extra,
        ),
    )


async def _preview(request: Request, kind: str) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    got = await read_upload(request)
    back = f"/bodies/{body.id}/roster"
    if isinstance(got, str):
        return message_page(got, 400, title="无法导入", back=back, back_label="返回名册")
    data, filename, fields = got
    if not csrf_ok(request, session.sid, fields):
        return message_page(msg.edge("csrf"), 403)
    create_groups = kind == "roster" and fields.get("create_groups") == "1"
    try:
        plan = await _plan(request, session, kind, body.id, data, filename, create_groups, dry_run=True)
    except imports.ImportRefused as refused:
        return message_page(refused.message, 400, title="无法导入", back=back, back_label="返回名册")
    meta = {"sid": session.sid, "body_id": body.id, "kind": kind, "filename": filename}
    token = "" if plan.errors else keep(request, data, meta)
    async with services(request).engine.connect() as conn:
        starts_on = await members.default_start(conn, body.id)
        await conn.commit()
    return _preview_page(
        request,
        session,
        body,
        kind,
        plan,
        filename=filename,
        token=token,
        create_groups=create_groups,
        starts_on=starts_on.isoformat(),
    )


async def _confirm(request: Request, kind: str) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    form = await form_of(request, max_fields=MAX_CHOICE_FIELDS, max_bytes=MAX_CHOICE_BYTES)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    back, token = f"/bodies/{body.id}/roster", form.get("token", "")
    if (kept := take(request, token, session, body.id)) is None or kept[1].get("kind") != kind:
        return message_page("上传的文件已过期，请重新上传。", 400, back=back, back_label="返回名册")
    data, filename = kept[0], str(kept[1].get("filename", "upload"))  # the name goes to the audit
    create_groups = kind == "roster" and form.get("create_groups") == "1"
    starts_on: dt.date | None = None
    choices: dict[int, roster_import.EndChoice] = {}
    try:
        if kind == "roster":
            # Checked against a fresh plan before the upload is spent: a wrong date or an
            # empty document number is fixed on the same page, nothing written.
            plan = await _plan(request, session, kind, body.id, data, filename, create_groups, dry_run=True)
            assert isinstance(plan, imports.RosterPlan)
            problems: list[str] = []
            try:
                # Left empty: the running term's first day, as the preview proposed.
                starts_on = parse_optional_day(form.get("starts_on", ""), "新代表任期开始日期")
            except BadDay as bad:
                problems.append(str(bad))
            choices, more = read_choices(form, plan)
            problems += more or roster_import.check_choices(plan, choices)
            if problems and not plan.errors:
                return _preview_page(
                    request,
                    session,
                    body,
                    kind,
                    plan,
                    400,
                    filename=filename,
                    token=token,
                    create_groups=create_groups,
                    starts_on=form.get("starts_on", ""),
                    typed=form,
                    choice_errors=problems,
                )
        forget(request, token)  # one confirmation per upload, whatever its outcome
        plan = await _plan(
            request, session, kind, body.id, data, filename, create_groups, False, starts_on, choices
        )
    except imports.ImportRefused as refused:
        forget(request, token)  # the file itself is refused: no retry can help
        return message_page(refused.message, 400, title="无法导入", back=back, back_label="返回名册")
    except mandates.Refused as refused:  # the roster changed between the check and the write
        return message_page(str(refused), 400, title="无法导入", back=back, back_label="返回名册")
    if plan.errors:  # the roster changed since the preview
        return _preview_page(request, session, body, kind, plan, filename="", token="", create_groups=False)
    await services(request).meetings.setup_changed(body_id=body.id)
    return message_page(
        f"导入完成：{plan.summary()}。", 200, title="导入完成", back=back, back_label="返回名册"
    )


async def preview(request: Request) -> Response:
    return await _preview(request, "roster")


async def confirm(request: Request) -> Response:
    return await _confirm(request, "roster")


async def officials_preview(request: Request) -> Response:
    return await _preview(request, "officials")


async def officials_confirm(request: Request) -> Response:
    return await _confirm(request, "officials")


async def export(request: Request) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    _, body = found
    async with services(request).engine.connect() as conn:
        rows = await exports.roster_rows(conn, body.id, current_only=True)
        await conn.commit()
    filename = f"代表名册-{body.name}.xlsx"
    plain = [dict(row._mapping) for row in rows]  # picklable, for the workshop
    return Response(
        await services(request).workshop.run(exports.roster_xlsx, plain),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "content-disposition": f"attachment; filename=\"roster.xlsx\"; filename*=UTF-8''{quote(filename)}"
        },
    )
