"""Staff forms for members over time: end a mandate, suspend, end a suspension (on the
member's page, server/web/routes/people.py) and the by-election (补选, on the roster page).

Each form is read through server/base/days.py and server/base/parse.py, then written by
server/office/mandates.py with its audit entry in one transaction; a refusal shows the
page again with the Chinese reason and the typed values, nothing written. Open screens
learn the change at once (``setup_changed``): 应到 follows the mandates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.days import BadDay, parse_day, parse_optional_day, today
from server.base.keys import StaffSession
from server.office import mandates
from server.web.http import csrf_ok, device, form_of, message_page, services
from server.web.routes.people import render_deputy
from server.web.routes.roster import _staff_and_body, render_roster


def _text(form: dict[str, str], key: str, limit: int = mandates.MAX_ORGAN) -> str:
    value = parse.text(form.get(key, ""), limit)
    if value is None:
        raise mandates.Refused("所填内容太长或含有无法识别的字符（如控制字符），请修改后重试。")
    return value


def _day(form: dict[str, str], key: str, what: str) -> dt.date:
    return parse_day(form.get(key, ""), what)


def _optional_day(form: dict[str, str], key: str, what: str) -> dt.date | None:
    return parse_optional_day(form.get(key, ""), what)


Change = Callable[[AsyncConnection, dict[str, str], str, str], Awaitable[None]]


async def _change(request: Request, form_name: str, done: str, change: Change) -> Response:
    """Read the form, apply ``change`` in one transaction, back to the member's page."""
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    deputy_id = int(request.path_params["deputy_id"])
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    svc = services(request)
    try:
        async with svc.engine.begin() as conn:
            member = await mandates.member(conn, body.id, deputy_id, today())
            if member is None:
                raise mandates.Refused("没有这位代表。")
            await change(conn, form, f"staff:{session.username}", device(request))
    except (mandates.Refused, BadDay) as refused:
        return await render_deputy(
            request, session, body, deputy_id, status=400, error=str(refused), failed=form_name, typed=form
        )
    await svc.meetings.setup_changed(body_id=body.id)
    return RedirectResponse(f"/bodies/{body.id}/deputies/{deputy_id}?done={done}", status_code=303)


async def end_mandate(request: Request) -> Response:
    deputy_id = int(request.path_params["deputy_id"])

    async def change(conn: AsyncConnection, form: dict[str, str], by: str, where: str) -> None:
        await mandates.end_mandate(
            conn,
            deputy_id,
            _day(form, "ends_on", "代表资格终止日期"),
            _text(form, "reason"),
            _text(form, "organ"),
            _text(form, "document"),
            _optional_day(form, "document_on", "文件日期"),
            by,
            where,
        )

    return await _change(request, "end", "ended", change)


async def suspend(request: Request) -> Response:
    deputy_id = int(request.path_params["deputy_id"])

    async def change(conn: AsyncConnection, form: dict[str, str], by: str, where: str) -> None:
        await mandates.suspend(
            conn,
            deputy_id,
            _day(form, "starts_on", "暂停开始日期"),
            _optional_day(form, "ends_on", "暂停结束日期"),
            _text(form, "reason", mandates.MAX_REASON_TEXT),
            _text(form, "organ"),
            _text(form, "document"),
            by,
            where,
        )

    return await _change(request, "suspend", "suspended", change)


async def end_suspension(request: Request) -> Response:
    deputy_id = int(request.path_params["deputy_id"])
    suspension_id = int(request.path_params["suspension_id"])

    async def change(conn: AsyncConnection, form: dict[str, str], by: str, where: str) -> None:
        ends_on = _day(form, "ends_on", "恢复执行代表职务的日期")
        await mandates.end_suspension(conn, deputy_id, suspension_id, ends_on, by, where)

    return await _change(request, "resume", "resumed", change)


async def by_election(request: Request) -> Response:
    """补选代表: a new member from a date, from the roster page."""
    found = await _staff_and_body(request)
    if isinstance(found, Response):
        return found
    session, body = found
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    svc = services(request)
    try:
        cells = {k: _text(form, k, 64) for k in ("name", "group", "card_no", "phone")}
        starts_on = _day(form, "starts_on", "补选代表的任期开始日期")
        async with svc.engine.begin() as conn:
            deputy_id = await mandates.add_member(
                conn, body.id, cells, starts_on, f"staff:{session.username}", device(request)
            )
    except (mandates.Refused, BadDay) as refused:
        return await _roster_again(request, session, body, str(refused), form)
    await svc.meetings.setup_changed(body_id=body.id)
    return RedirectResponse(f"/bodies/{body.id}/deputies/{deputy_id}?done=added", status_code=303)


async def _roster_again(
    request: Request, session: StaffSession, body: Any, error: str, form: dict[str, str]
) -> Response:
    return await render_roster(request, session, body, 400, error=error, typed=form)
