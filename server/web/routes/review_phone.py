"""The question review board on a presidium member's phone: ``/d/{meeting}/review``.

No staff account: the phone bound to the member's card (its deputy cookie, checked
against the database as the question pages do) opens the board when staff gave that
member this meeting's board (:mod:`server.office.reviewers`). The board's logic is the
staff board's (:func:`server.web.routes.questions.write_review`), limited to reviewing
(approve, reject, merge, edit, order, assign); what the member does is recorded as
``presidium:<deputy id>``. Any other deputy gets 403 with a Chinese page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base.keys import DeputyBinding
from server.office import questions_admin as qa
from server.office import reviewers
from server.office.meeting_forms import Invalid
from server.web.http import message_page, page, services
from server.web.routes.questions import board_data, bound_phone, phone_form, write_review

ACTIONS = frozenset({"approve", "reject", "merge", "edit", "up", "down", "order", "assign"})


def _refused(meeting_id: int) -> Response:
    return message_page(
        reviewers.TEXT["refused"], 403, title="无审核权限", back=f"/d/{meeting_id}", back_label="返回代表页面"
    )


async def _reviewer(request: Request, meeting_id: int) -> DeputyBinding | Response:
    binding = await bound_phone(request, meeting_id)
    if isinstance(binding, Response):
        return binding
    async with services(request).engine.connect() as conn:
        allowed = await reviewers.may_review(conn, meeting_id, binding.deputy_id)
        name = await reviewers.deputy_name(conn, binding.deputy_id)
        await conn.commit()
    if not allowed:
        return _refused(meeting_id)
    request.state.reviewer_name = name
    return binding


async def _board(
    request: Request, binding: DeputyBinding, meeting_id: int, status: int = 200, **extra: Any
) -> Response:
    data = await board_data(request, meeting_id)
    if data is None:
        return message_page(msg.edge("no_meeting"), 404)
    return page(
        "questions_review_phone",
        status=status,
        **data,
        me=request.state.reviewer_name,
        csrf=services(request).keys.csrf(binding.sid),
        errors=extra.pop("errors", {}),
        saved=request.query_params.get("saved", ""),
    )


async def review(request: Request) -> Response:
    meeting_id = int(request.path_params["meeting_id"])
    binding = await _reviewer(request, meeting_id)
    if isinstance(binding, Response):
        return binding
    if request.method == "GET":
        return await _board(request, binding, meeting_id)
    form = await phone_form(request, binding)
    if isinstance(form, Response):
        return form
    actor = reviewers.actor_of(binding.deputy_id)
    try:
        action = await write_review(
            request, meeting_id, form, who=actor, actor=actor, allowed=ACTIONS, reviewer=binding.deputy_id
        )
    except Invalid as bad:
        if "reviewer" in bad.errors:  # the grant was taken away meanwhile
            return _refused(meeting_id)
        if "started" in bad.errors:
            return message_page(
                qa.TEXT["started"], 409, back=f"/d/{meeting_id}/review", back_label="返回问题审核"
            )
        return await _board(request, binding, meeting_id, 400, errors=bad.errors)
    if action is None:
        return message_page(msg.edge("no_meeting"), 404)
    return RedirectResponse(f"/d/{meeting_id}/review?saved={action}", status_code=303)
