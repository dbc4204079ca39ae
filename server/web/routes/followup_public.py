"""The public follow-up page (督办进展) and the staff decisions that feed it.

``/public/bodies/{body}/followup``: anyone, no login, like the live page ``/m/{id}/live``:
the body's public items by meeting (``?meeting=<id>`` keeps one), each with its progress
and the approved posts (server/office/followup_public.py says what is read, and what
never is). Thousands of citizens may open it when the office shares the link: the read
is one snapshot (no lock) kept 30 s per body in ``Services.public_followup``
(server/web/ttl_cache.py), so a crowd costs one read every 30 s per process; shared
caches in front may keep the page as long (``s-maxage``), browsers ask again each time.

Staff decide what it shows, on the item page: ``POST /followup/{item}/public`` (``public``
1 or 0) and ``POST /followup/{item}/approval`` (``post``, ``action`` approve or withdraw),
each with the staff session and the CSRF token, in one transaction with its audit entry
(server/office/followup_publish.py). ``/bodies/{body}/followup/public-notice`` is the
page's address as a QR code the office prints or shows on the projector.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.base import parse
from server.base.days import epoch_ms, today
from server.office import bodies as office_bodies
from server.office import card_qr, followup_public, followup_publish
from server.office.meeting_forms import Invalid
from server.storage.db import snapshot_read
from server.web.http import device, message_page, page, require_staff, services, staff_form

NO_BODY = "找不到这个机构，请检查网址是否完整。"
NO_MEETING = "这次会议没有公开的督办事项。"
BAD_FORM = "表单无效，请刷新页面后重试。"
# Shared caches (a proxy, a CDN) may keep the page as long as the server does; a browser
# asks again each time, so staff who just approved a post see it on their next visit.
CACHE_CONTROL = "public, max-age=0, s-maxage=30"


def public_path(body_id: int) -> str:
    return f"/public/bodies/{body_id}/followup"


async def public_page(request: Request) -> Response:
    svc = services(request)
    body_id = int(request.path_params["body_id"])
    day = today()  # the China date: 逾期 is counted from it

    async def read() -> followup_public.PublicBoard | None:
        async with snapshot_read(svc.engine) as conn:
            return await followup_public.public_board(conn, body_id, day)

    board = await svc.public_followup.get(body_id, read)
    if board is not None and board.today != day:  # read before midnight: 逾期 may have changed
        svc.public_followup.forget(body_id)
        board = await svc.public_followup.get(body_id, read)
    if board is None:
        return message_page(NO_BODY, 404, title="找不到页面")
    meeting = parse.row_id(request.query_params.get("meeting"))
    groups = [g for g in board.groups if meeting is None or g.meeting_id == meeting]
    status = 404 if meeting is not None and not groups else 200
    response = page(
        "followup_public",
        status,
        board=board,
        groups=groups,
        counts=followup_public.counts(groups or board.groups),
        meeting=meeting,
        missing=NO_MEETING if status == 404 else "",
        steps=followup_public.STEPS,
        path=public_path(body_id),
    )
    response.headers["cache-control"] = CACHE_CONTROL
    return response


def _back(item_id: int) -> dict[str, str]:
    return {"back": f"/followup/{item_id}", "back_label": "返回督办事项"}


async def set_public(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    item_id = int(request.path_params["item_id"])
    if form.get("public") not in ("0", "1"):
        return message_page(BAD_FORM, 400, **_back(item_id))
    try:
        async with services(request).engine.begin() as conn:
            body_id, _ = await followup_publish.set_public(
                conn,
                item_id,
                form["public"] == "1",
                actor=f"staff:{session.username}",
                device=device(request),
            )
    except Invalid as bad:
        return message_page("".join(bad.errors.values()), 404, back="/bodies", back_label="返回机构列表")
    services(request).public_followup.forget(body_id)
    return RedirectResponse(f"/followup/{item_id}?saved=public#fu-publish", status_code=303)


async def approval(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    item_id = int(request.path_params["item_id"])
    post_id, action = parse.row_id(form.get("post")), form.get("action")
    if post_id is None or action not in ("approve", "withdraw"):
        return message_page(BAD_FORM, 400, **_back(item_id))
    who = {"actor": f"staff:{session.username}", "device": device(request)}
    try:
        async with services(request).engine.begin() as conn:
            if action == "approve":
                body_id, _ = await followup_publish.approve_post(
                    conn, item_id, post_id, now_ms=epoch_ms(), **who
                )
            else:
                body_id, _ = await followup_publish.withdraw_post(conn, item_id, post_id, **who)
    except Invalid as bad:
        if bad.errors.get("item"):
            return message_page(bad.errors["item"], 404, back="/bodies", back_label="返回机构列表")
        return message_page("".join(bad.errors.values()), 400, **_back(item_id))
    services(request).public_followup.forget(body_id)
    return RedirectResponse(f"/followup/{item_id}?saved={action}#fu-publish", status_code=303)


async def notice(request: Request) -> Response:
    """The public page's address as a QR code, to print or to show in the hall."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    svc = services(request)
    async with svc.engine.connect() as conn:
        body = await office_bodies.body(conn, int(request.path_params["body_id"]))
        await conn.commit()
    if body is None:
        return message_page(NO_BODY, 404, back="/bodies", back_label="返回机构列表")
    url = svc.settings.public_url + public_path(body.id)
    svg, _png = await svc.workshop.run(card_qr.draw, url)
    return page("followup_public_notice", body=body, url=url, qr=svg, user=session)
