"""Staff pages for preparing meetings: list, create from a kind, edit rules and agenda, clone.

Every write checks the staff session and the CSRF token, then runs in one transaction
that holds the meeting's write lock (:func:`server.storage.db.meeting_write`), the same lock the
live action path takes: the "no events yet" check and the edit cannot interleave with a
first event. Bad input re-renders the page with a Chinese message per field, status 400,
and writes nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import days, parse
from server.base.days import epoch_ms
from server.base.keys import StaffSession
from server.office import (
    agenda_reporters,
    agenda_reports,
    bodies,
    body_rules,
    meeting_forms,
    meeting_kinds,
    schedule,
    terms,
)
from server.office import meetings_admin as admin
from server.office.bodies import Who
from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage.db import meeting_write
from server.web.http import device, message_page, page, require_staff, services, staff_form


def _common(request: Request, session: StaffSession) -> dict[str, Any]:
    return {
        "user": session,
        "csrf": services(request).keys.csrf(session.sid),
        "kinds": meeting_kinds.KINDS,
        "agenda_kinds": msg.AGENDA_KINDS,
        "body_rules": meeting_kinds.BODY_RULES,
    }


async def meetings(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    async with services(request).engine.connect() as conn:
        rows = await admin.list_meetings(conn)
        await conn.commit()
    return page(
        "meeting_list",
        meetings=rows,
        saved=request.query_params.get("saved", ""),
        **_common(request, session),
    )


NEW_FIELDS = ("body", "kind", "title", "held_on", "starts_at", "place", "session")


def _who(request: Request, session: StaffSession) -> Who:
    return Who(f"staff:{session.username}", device(request))


async def _new_page(
    request: Request, session: StaffSession, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    async with services(request).engine.connect() as conn:
        rows = await bodies.every_body(conn)
        body_id = parse.row_id(values.get("body")) or (rows[0].id if rows else 0)
        current = await terms.current_term(conn, body_id) if body_id else None
        sessions = await terms.sessions_of(conn, current.id) if current is not None else []
        await conn.commit()
    body = next((b for b in rows if b.id == body_id), None)
    if not values.get("kind") and body is not None:  # the body's inquiry, as a first choice
        values["kind"] = "special_inquiry" if body.kind == "standing_committee" else "inquiry"
    return page(
        "meeting_new",
        status=status,
        bodies=rows,
        values=values,
        errors=errors,
        term=current,
        sessions=sessions,
        term_name=days.term_name,
        session_name=days.session_name,
        **_common(request, session),
    )


async def new_meeting(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    if request.method == "GET":
        wanted = request.query_params.get("body", "")
        values = {k: "" for k in NEW_FIELDS}
        values.update(
            body=wanted, kind=request.query_params.get("kind", ""), held_on=days.today().isoformat()
        )
        values["session"] = schedule.NEW
        return await _new_page(request, session, values, {})
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    values = {k: form.get(k, "") for k in NEW_FIELDS}
    body_id = parse.row_id(values["body"]) or 0  # 0: no such body, refused with its message
    try:
        async with services(request).engine.begin() as conn:
            meeting_id = await admin.create(
                conn,
                body_id,
                values["kind"],
                epoch_ms(),
                held_on=values["held_on"],
                starts_at=values["starts_at"],
                place=values["place"],
                session=values["session"],
                title=values["title"],
                who=_who(request, session),
            )
    except Invalid as bad:
        return await _new_page(request, session, values, bad.errors, 400)
    return RedirectResponse(f"/meetings/{meeting_id}/edit?saved=created", status_code=303)


async def _edit_page(
    request: Request, session: StaffSession, meeting_id: int, status: int = 200, **extra: Any
) -> Response:
    svc = services(request)
    async with svc.engine.connect() as conn:
        row = await admin.meeting_row(conn, meeting_id)
        if row is None:
            await conn.commit()
            return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
        items = await admin.agenda(conn, meeting_id)
        started = await admin.has_events(conn, meeting_id)
        reports = await agenda_reports.body_reports(conn, row.body_id)
        taken = await agenda_reports.summaries(conn, [i.report_id for i in items if i.report_id])
        session_number = await schedule.session_number(conn, row.session_id)
        term_sessions = await terms.sessions_of(conn, row.term_id) if row.term_id else []
        reporter_choices = await agenda_reporters.choices(conn, row)
        await conn.commit()
    settings = admin.settings_of(row)
    values = {
        "title": row.title,
        **{f"timer_{role.value}": str(s) for role, s in settings.timer_seconds.items()},
        "warn_seconds": str(settings.warn_seconds),
        "denominator": settings.rating_rule.denominator.value,
        "satisfied_share": meeting_forms.share_text(settings.rating_rule.satisfied_share),
        "basic_share": meeting_forms.share_text(settings.rating_rule.basic_share),
        "min_ballots": str(settings.rating_rule.min_ballots),
        "floor_requests_per_item": str(settings.floor_requests_per_item),
        "hall_networks": "\n".join(settings.hall_networks),
        "checkin_grace_minutes": str(settings.checkin_grace_minutes),
        "held_on": row.held_on.isoformat() if row.held_on else "",
        "starts_at": row.starts_at,
        "place": row.place,
        "session": str(session_number) if session_number is not None else "",
        "chair": row.chair,
        **(extra.pop("values", None) or {}),  # what was sent, over what is stored: a field left out shows it
    }
    return page(
        "meeting_edit",
        status=status,
        meeting=row,
        kind=meeting_kinds.KINDS.get(row.kind),
        rules=meeting_kinds.BODY_RULES[settings.body_kind],
        quorum_text=body_rules.effective(row.body_kind, row.body_rules).quorum_text,
        term_sessions=term_sessions,
        session_name=days.session_name,
        items=items,
        reports=reports,
        taken=taken,
        reporter_choices=reporter_choices,
        reporter_kinds=msg.REPORTER_KINDS,
        duty_report=row.kind == "duty_report",
        made_on=lambda ms: days.chinese_day(days.day_of_ms(ms)),
        started=started,
        started_text=meeting_forms.TEXT["started"],
        values=values,
        errors=extra.pop("errors", {}),
        saved=request.query_params.get("saved", ""),
        roles=meeting_forms.ROLE_NAMES,
        denominators=meeting_forms.DENOMINATOR_NAMES,
        **_common(request, session),
        **extra,
    )


# Edits allowed once the meeting's log has begun (every other edit is refused then).
AFTER_START = ("hall_networks", "chair", agenda_reporters.ACTION)
# Edits the office records in the audit trail itself, with what they changed.
SELF_AUDITED = (agenda_reports.ACTION, "chair", agenda_reporters.ACTION)


async def edit_meeting(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    meeting_id = int(request.path_params["meeting_id"])
    if request.method == "GET":
        return await _edit_page(request, session, meeting_id)
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    action = form.get("action", "")
    values = None
    try:
        async with meeting_write(services(request).engine, meeting_id) as conn:
            row = await admin.meeting_row(conn, meeting_id)
            if row is None:
                return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
            # The hall's network is presence, not a rule of the meeting: it is often found on
            # the day, and a wrong one must be fixable while check-in runs. The chair and who
            # reports are names the proceedings need: they may be set after it began too.
            if action not in AFTER_START and await admin.has_events(conn, meeting_id):
                text = meeting_forms.TEXT["started"]
                return message_page(text, 409, back=f"/meetings/{meeting_id}/edit", back_label="返回会议设置")
            values = {**form}  # shown again with the errors, over what is stored
            if action == "hall_networks":
                await admin.save_hall_networks(
                    conn, meeting_id, row, form.get("hall_networks", ""), form.get("checkin_grace_minutes")
                )
            elif action == "schedule":
                await schedule.save(conn, meeting_id, row, form, _who(request, session))
            elif action == "settings":
                await admin.save_settings(conn, meeting_id, row, form)
            elif action == "chair":
                await admin.save_chair(conn, meeting_id, row, form.get("chair", ""), _who(request, session))
            elif action == agenda_reporters.ACTION:
                await agenda_reporters.save(conn, meeting_id, row, form, _who(request, session))
            elif action == agenda_reports.ACTION:
                await agenda_reports.add_item(conn, meeting_id, form, _who(request, session))
            elif action.startswith("agenda_"):
                await admin.edit_agenda(conn, meeting_id, action, form)
            else:
                raise Invalid({"action": meeting_forms.TEXT["unknown_action"]})
            if action not in SELF_AUDITED:
                await audit.record(
                    conn,
                    "meeting_edited",
                    actor=f"staff:{session.username}",
                    device=device(request),
                    meeting_id=meeting_id,
                    what=action,
                )
    except Invalid as bad:
        return await _edit_page(request, session, meeting_id, 400, values=values, errors=bad.errors)
    await services(request).meetings.setup_changed(meeting_id=meeting_id)
    saved = action if action in ("settings", "hall_networks", "schedule", "chair") else "agenda"
    return RedirectResponse(f"/meetings/{meeting_id}/edit?saved={saved}", status_code=303)


async def clone_meeting(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    form = await staff_form(request, session)
    if isinstance(form, Response):
        return form
    async with services(request).engine.begin() as conn:
        new_id = await admin.clone(conn, int(request.path_params["meeting_id"]), epoch_ms())
    if new_id is None:
        return message_page(msg.edge("no_meeting"), 404, back="/meetings", back_label="返回会议列表")
    return RedirectResponse(f"/meetings/{new_id}/edit?saved=cloned", status_code=303)
