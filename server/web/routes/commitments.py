"""承诺事项 of a question before the 交办 decision (server/office/question_commitments.py).

``/m/{meeting}/questions/{question}/commitments``: GET, the console's small panel beside
the current question (pages/_commitments.html); POST adds a line. ``…/{line}/delete``
deletes a wrong one. The console sends them with htmx and gets the panel back, swapped
into itself only: the panel sits in the live question panel under ``hx-preserve``, so a
live update keeps it (and what is being typed in it), and a reload asks for it again.
The 交办督办 page (/m/{meeting}/followup) posts the same forms plainly and is sent back
to the question's row on it.

This is office data, not hall state: it goes nowhere near the live action path. Writes
check the staff session and the CSRF token (the console's htmx header or the page's form
field), run in one transaction with their audit entry, and answer bad input with its
Chinese message (status 400), nothing written.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.base.days import epoch_ms
from server.base.keys import StaffSession
from server.office import question_commitments
from server.office.meeting_forms import Invalid
from server.web.http import csrf_ok, device, form_of, message_page, page, require_staff, services
from server.web.routes.followup import decision_page

BAD_FORM = "表单无效或已过期，请刷新页面后重试。"


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _panel(
    request: Request,
    session: StaffSession,
    meeting_id: int,
    question_id: int,
    status: int = 200,
    error: str = "",
) -> Response:
    async with services(request).engine.connect() as conn:
        lines = await question_commitments.of_question(conn, meeting_id, question_id)
        await conn.commit()
    return page(
        "_commitments",
        status=status,
        lines=lines,
        meeting_id=meeting_id,
        question_id=question_id,
        error=error,
        max_text=question_commitments.MAX_TEXT,
        csrf=services(request).keys.csrf(session.sid),
    )


async def _answer(
    request: Request,
    session: StaffSession,
    meeting_id: int,
    question_id: int,
    bad: Invalid | None,
    saved: str,
) -> Response:
    """The console's panel, or back to the 交办 page's row (its error on the page)."""
    if _htmx(request):
        error = "".join(bad.errors.values()) if bad else ""
        return await _panel(request, session, meeting_id, question_id, 400 if bad else 200, error)
    if bad is not None:
        return await decision_page(request, session, meeting_id, 400, errors=bad.errors)
    return RedirectResponse(f"/m/{meeting_id}/followup?saved={saved}#fu-c-{question_id}", status_code=303)


async def _form(request: Request, session: StaffSession) -> dict[str, str] | Response:
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return (
            message_page(BAD_FORM, 403)
            if not _htmx(request)
            else page("flash", 403, text=BAD_FORM, kind="error")
        )
    return form


async def panel(request: Request) -> Response:
    """The question's lines (GET); POST ``text`` adds one."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    question_id = int(request.path_params["question_id"])
    if request.method == "GET":
        return await _panel(request, session, meeting_id, question_id)
    form = await _form(request, session)
    if isinstance(form, Response):
        return form
    try:
        async with services(request).engine.begin() as conn:
            await question_commitments.add(
                conn,
                meeting_id,
                question_id,
                form.get("text", ""),
                actor=f"staff:{session.username}",
                device=device(request),
                now_ms=epoch_ms(),
            )
    except Invalid as bad:
        return await _answer(request, session, meeting_id, question_id, bad, "")
    return await _answer(request, session, meeting_id, question_id, None, "commitment")


async def remove(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    question_id = int(request.path_params["question_id"])
    form = await _form(request, session)
    if isinstance(form, Response):
        return form
    try:
        async with services(request).engine.begin() as conn:
            await question_commitments.remove(
                conn,
                meeting_id,
                question_id,
                int(request.path_params["commitment_id"]),
                actor=f"staff:{session.username}",
                device=device(request),
            )
    except Invalid as bad:
        return await _answer(request, session, meeting_id, question_id, bad, "")
    return await _answer(request, session, meeting_id, question_id, None, "removed")
