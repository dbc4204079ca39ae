"""Staff pages for a body's roster: view, import with a preview, export, edit one deputy.

The import is two requests. The upload is checked (nothing written) and its bytes are
kept on disk under the data folder (``uploads/<token>``), bound to the staff session and
the body, for :data:`UPLOAD_TTL_S`; the preview's "确认导入" sends only the token. Disk,
not memory, so the confirmation may reach another worker process of the same server.
The confirmation plans again inside the writing transaction, so a roster changed in the
meantime is checked afresh, and writes all or nothing.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from itertools import groupby
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from screens import messages as msg
from server.base import parse
from server.base.keys import StaffSession
from server.office import attendance_history, exports, imports, meetings_admin, roster_import
from server.office import bodies as office_bodies
from server.storage import audit
from server.storage.db import snapshot_read
from server.web.http import csrf_ok, device, form_of, message_page, page, require_staff, services

UPLOAD_TTL_S = 30 * 60
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")


# -- the upload store -------------------------------------------------------------------


def _uploads(request: Request) -> Path:
    folder = services(request).settings.data_dir / "uploads"
    folder.mkdir(exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    cutoff = time.time() - UPLOAD_TTL_S
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def _keep(request: Request, data: bytes, meta: dict[str, Any]) -> str:
    folder = _uploads(request)
    _sweep(folder)
    token = secrets.token_urlsafe(18)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


def _take(
    request: Request, token: str, session: StaffSession, body_id: int
) -> tuple[bytes, dict[str, Any]] | None:
    if not TOKEN.fullmatch(token):
        return None
    folder = _uploads(request)
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        if time.time() - (folder / f"{token}.bin").stat().st_mtime > UPLOAD_TTL_S:
            return None
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("sid") != session.sid or meta.get("body_id") != body_id:
        return None
    return data, meta


def _forget(request: Request, token: str) -> None:
    for suffix in (".bin", ".json"):
        (_uploads(request) / f"{token}{suffix}").unlink(missing_ok=True)


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


async def bodies(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    async with services(request).engine.connect() as conn:
        rows = await office_bodies.every_body(conn)
        await conn.commit()
    return page("roster_bodies", bodies=rows, user=session)


async def roster(request: Request) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    async with services(request).engine.connect() as conn:
        rows = await exports.roster_rows(conn, body.id)
        group_names = list(await roster_import.group_ids(conn, body.id))
        officials = await office_bodies.officials(conn, body.id)
        recent = await audit.entries(conn, body.id)
        card_meetings = await meetings_admin.titles(conn, body.id)
        warnings = await attendance_history.warnings(conn, body.id)  # 代表法 §49
        await conn.commit()
    by_group = {name: list(members) for name, members in groupby(rows, key=lambda r: r.group)}
    grouped = [(name, by_group.get(name, [])) for name in group_names]
    return page(
        "roster_body",
        **_context(
            request,
            session,
            body,
            grouped=grouped,
            total=len(rows),
            officials=officials,
            card_meetings=card_meetings,
            recent=recent,
            warnings=warnings,
            organ=attendance_history.organ(body.level),
            saved=request.query_params.get("saved", ""),
        ),
    )


async def _upload(request: Request) -> tuple[bytes, str, dict[str, str]] | str:
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
) -> imports.RosterPlan | imports.OfficialsPlan:
    engine = services(request).engine
    # A preview only reads: a snapshot takes no write lock away from a meeting in session.
    async with snapshot_read(engine) if dry_run else engine.begin() as conn:
        plan: imports.RosterPlan | imports.OfficialsPlan
        if kind == "officials":
            plan = await imports.import_officials(conn, body_id, data, filename, dry_run=dry_run)
        else:
            plan = await roster_import.import_roster(
                conn, body_id, data, filename, create_groups=create_groups, dry_run=dry_run
            )
        if not dry_run and not plan.errors:
            await _audit(
                request, session, conn, f"{kind}_imported", body_id, file=filename, summary=plan.summary()
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
    **extra: Any,
) -> Response:
    return page(
        "roster_preview",  # a plan with errors is refused: 400, like the edit pages' errors
        400 if plan.errors else 200,
        **_context(
            request,
            session,
            body,
            kind=kind,
            plan=plan,
            shown=plan.errors[: imports.MAX_ERRORS_SHOWN],
            **extra,
        ),
    )


async def _preview(request: Request, kind: str) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    got = await _upload(request)
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
    token = "" if plan.errors else _keep(request, data, meta)
    return _preview_page(
        request, session, body, kind, plan, filename=filename, token=token, create_groups=create_groups
    )


async def _confirm(request: Request, kind: str) -> Response:
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    back, token = f"/bodies/{body.id}/roster", form.get("token", "")
    if (kept := _take(request, token, session, body.id)) is None or kept[1].get("kind") != kind:
        return message_page("上传的文件已过期，请重新上传。", 400, back=back, back_label="返回名册")
    _forget(request, token)  # one confirmation per upload, whatever its outcome
    data, filename = kept[0], str(kept[1].get("filename", "upload"))  # the name goes to the audit
    create_groups = kind == "roster" and form.get("create_groups") == "1"
    try:
        plan = await _plan(request, session, kind, body.id, data, filename, create_groups, dry_run=False)
    except imports.ImportRefused as refused:
        return message_page(refused.message, 400, title="无法导入", back=back, back_label="返回名册")
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
        rows = await exports.roster_rows(conn, body.id)
        await conn.commit()
    filename = f"代表名册-{body.name}.xlsx"
    return Response(
        exports.roster_xlsx(rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "content-disposition": f"attachment; filename=\"roster.xlsx\"; filename*=UTF-8''{quote(filename)}"
        },
    )
