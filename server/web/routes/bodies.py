"""Staff pages for bodies and their terms: list, create, edit, the body page.

The body page is where an office starts: the rules the law gives the body (its quorum
rule editable, the article cited beside it), its terms with their sessions and meetings,
forms to add and edit a term and to add a session, and what to do next. Admin or staff
only (a chair runs meetings, not the office's records). Every write checks the CSRF
token and runs in one transaction with its audit entry (in :mod:`server.office`); bad
input shows the page again with a Chinese message per field, status 400, nothing written.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.base import days
from server.base.keys import StaffSession
from server.office import bodies as office_bodies
from server.office import body_rules, terms
from server.office.bodies import Who
from server.office.meeting_forms import Invalid
from server.web.http import device, message_page, page, require_staff, services, staff_form

OFFICE_ROLES = frozenset({"admin", "staff"})
BODY_FIELDS = ("name", "kind", "level", "quorum")


def _office(request: Request) -> StaffSession | Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    if not session.roles & OFFICE_ROLES:
        return message_page(office_bodies.TEXT["office_only"], 403, back="/", back_label="返回首页")
    return session


def _who(request: Request, session: StaffSession) -> Who:
    return Who(f"staff:{session.username}", device(request))


def _common(request: Request, session: StaffSession) -> dict[str, Any]:
    return {
        "user": session,
        "csrf": services(request).keys.csrf(session.sid),
        "levels": body_rules.LEVELS,
        "body_kinds": body_rules.KIND_KEYS,
        "body_rules": body_rules.BODY_RULES,
        "quorums": body_rules.QUORUMS,
        "quorum_short": body_rules.QUORUM_SHORT,
    }


def _no_body() -> Response:
    return message_page(office_bodies.TEXT["no_body"], 404, back="/bodies", back_label="返回机构列表")


async def bodies_list(request: Request) -> Response:
    session = _office(request)
    if isinstance(session, Response):
        return session
    async with services(request).engine.connect() as conn:
        rows = await office_bodies.every_body(conn)
        current = {b.id: await terms.current_term(conn, b.id) for b in rows}
        await conn.commit()
    return page("bodies", bodies=rows, current=current, term_name=days.term_name, **_common(request, session))


async def new_body(request: Request) -> Response:
    session = _office(request)
    if isinstance(session, Response):
        return session
    if request.method == "GET":
        values = {"name": "", "kind": "congress", "level": "county", "quorum": ""}
        return page("body_form", body=None, values=values, errors={}, **_common(request, session))
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    values = {k: form.get(k, "") for k in BODY_FIELDS}
    try:
        async with services(request).engine.begin() as conn:
            body_id = await office_bodies.create_body(
                conn, values["name"], values["kind"], values["level"], _who(request, session)
            )
    except Invalid as bad:
        return page(
            "body_form", 400, body=None, values=values, errors=bad.errors, **_common(request, session)
        )
    return RedirectResponse(f"/bodies/{body_id}?saved=created", status_code=303)


async def edit_body(request: Request) -> Response:
    session = _office(request)
    if isinstance(session, Response):
        return session
    body_id = int(request.path_params["body_id"])
    async with services(request).engine.connect() as conn:
        row = await office_bodies.body(conn, body_id)
        has_meetings = bool(row is not None and await office_bodies.meeting_count(conn, body_id))
        await conn.commit()
    if row is None:
        return _no_body()
    extra = {"body": row, "has_meetings": has_meetings}
    if request.method == "GET":
        kind_key = next(k for k, v in body_rules.KIND_KEYS.items() if v.value == row.kind)
        quorum = body_rules.effective(row.kind, row.rules).quorum.value
        values = {"name": row.name, "kind": kind_key, "level": row.level, "quorum": quorum}
        return page("body_form", values=values, errors={}, **extra, **_common(request, session))
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    values = {k: form.get(k, "") for k in BODY_FIELDS}
    try:
        async with services(request).engine.begin() as conn:
            await office_bodies.edit_body(
                conn,
                body_id,
                values["name"],
                values["kind"],
                values["level"],
                values["quorum"],
                _who(request, session),
            )
    except Invalid as bad:
        return page("body_form", 400, values=values, errors=bad.errors, **extra, **_common(request, session))
    # Loaded meetings of the body take the new quorum rule at once.
    await services(request).meetings.setup_changed(body_id=body_id)
    return RedirectResponse(f"/bodies/{body_id}?saved=body", status_code=303)


async def _body_page(
    request: Request, session: StaffSession, body_id: int, status: int = 200, **extra: Any
) -> Response:
    async with services(request).engine.connect() as conn:
        row = await office_bodies.body(conn, body_id)
        if row is None:
            await conn.commit()
            return _no_body()
        term_views = await terms.terms_of(conn, body_id)
        deputies = await office_bodies.deputy_count(conn, body_id)
        officials = len(await office_bodies.officials(conn, body_id))
        await conn.commit()
    return page(
        "body",
        status=status,
        body=row,
        rules=body_rules.effective(row.kind, row.rules),
        level=body_rules.LEVELS.get(row.level, row.level),
        terms=term_views,
        deputies=deputies,
        officials=officials,
        today=days.today().isoformat(),
        saved=request.query_params.get("saved", ""),
        errors=extra.pop("errors", {}),
        values=extra.pop("values", {}),
        form_id=extra.pop("form_id", ""),
        **_common(request, session),
    )


async def body_page(request: Request) -> Response:
    session = _office(request)
    if isinstance(session, Response):
        return session
    return await _body_page(request, session, int(request.path_params["body_id"]))


async def add_term(request: Request) -> Response:
    session = _office(request)
    if isinstance(session, Response):
        return session
    body_id = int(request.path_params["body_id"])
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    values = {k: form.get(k, "") for k in ("number", "starts_on", "ends_on")}
    try:
        async with services(request).engine.begin() as conn:
            await terms.add_term(
                conn,
                body_id,
                values["number"],
                values["starts_on"],
                values["ends_on"],
                _who(request, session),
            )
    except Invalid as bad:
        if "body" in bad.errors:
            return _no_body()
        return await _body_page(
            request, session, body_id, 400, errors=bad.errors, values=values, form_id="t-new"
        )
    return RedirectResponse(f"/bodies/{body_id}?saved=term#terms", status_code=303)


async def edit_term(request: Request) -> Response:
    session = _office(request)
    if isinstance(session, Response):
        return session
    body_id = int(request.path_params["body_id"])
    term_id = int(request.path_params["term_id"])
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    values = {k: form.get(k, "") for k in ("number", "starts_on", "ends_on")}
    try:
        async with services(request).engine.begin() as conn:
            row = await terms.term_row(conn, term_id)
            if row is None or row.body_id != body_id:
                raise Invalid({"term": terms.TEXT["no_term"]})
            await terms.edit_term(
                conn,
                term_id,
                values["number"],
                values["starts_on"],
                values["ends_on"],
                _who(request, session),
            )
    except Invalid as bad:
        form_id = f"t-{term_id}"
        return await _body_page(
            request, session, body_id, 400, errors=bad.errors, values=values, form_id=form_id
        )
    await services(request).meetings.setup_changed(body_id=body_id)
    return RedirectResponse(f"/bodies/{body_id}?saved=term#terms", status_code=303)


async def add_session(request: Request) -> Response:
    session = _office(request)
    if isinstance(session, Response):
        return session
    body_id = int(request.path_params["body_id"])
    term_id = int(request.path_params["term_id"])
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    values = {"number": form.get("number", "")}
    try:
        async with services(request).engine.begin() as conn:
            row = await terms.term_row(conn, term_id)
            if row is None or row.body_id != body_id:
                raise Invalid({"term": terms.TEXT["no_term"]})
            await terms.add_session(conn, term_id, values["number"], _who(request, session))
    except Invalid as bad:
        form_id = f"s-{term_id}"
        return await _body_page(
            request, session, body_id, 400, errors=bad.errors, values=values, form_id=form_id
        )
    return RedirectResponse(f"/bodies/{body_id}?saved=session#terms", status_code=303)
