"""Preparing a meeting in the database: creating, cloning, editing, its agenda.

Rules are fixed once a meeting has begun: a meeting whose event log is not empty refuses
every edit but its hall network (the running state was folded under the old rules, and
agenda items are named by its events). Clone it to prepare the next one.

The functions take an open connection and never commit; the caller decides the
transaction. The kinds of meeting are in :mod:`server.office.meeting_kinds`, the
settings form in :mod:`server.office.meeting_forms`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import BodyKind, Settings
from server.base import days, parse
from server.office import agenda_reports, schedule, terms
from server.office.bodies import Who
from server.office.meeting_forms import (
    CLONE_SUFFIX,
    TEXT,
    TITLE_MAX,
    Invalid,
    check_agenda_kind,
    check_chair,
    check_title,
    parse_grace_minutes,
    parse_hall_networks,
    parse_settings,
)
from server.office.meeting_kinds import KINDS
from server.storage import audit
from server.storage import models as m
from server.storage.store import settings_from_json, settings_to_json

# -- the database -----------------------------------------------------------------------------


async def _insert(conn: AsyncConnection, table: Table, **values: object) -> int:
    result = await conn.execute(insert(table).values(**values).returning(table.c.id))
    return int(result.scalar_one())


async def has_events(conn: AsyncConnection, meeting_id: int) -> bool:
    stmt = select(func.count()).select_from(m.events).where(m.events.c.meeting_id == meeting_id)
    return int((await conn.execute(stmt)).scalar_one()) > 0


async def create(
    conn: AsyncConnection,
    body_id: int,
    kind_key: str,
    now_ms: int,
    *,
    held_on: str | dt.date,
    who: Who,
    starts_at: str = "",
    place: str = "",
    session: str = "",
    title: str = "",
) -> int:
    """A new meeting of ``kind_key`` held by ``body_id`` on ``held_on``, with its defaults.

    ``session``: a session number of the term covering ``held_on``, ``"new"`` (the next
    number, created here) or ``""`` (none: a standing committee only). ``title``: ``""``
    builds it from the body, term and session (:func:`server.office.terms.meeting_title`).
    Raises Invalid with every bad field; audited as ``meeting_created``.
    """
    errors: dict[str, str] = {}
    kind = KINDS.get(kind_key)
    if kind is None:
        errors["kind"] = TEXT["unknown_kind"]
    body = (await conn.execute(select(m.bodies).where(m.bodies.c.id == body_id))).first()
    if body is None:
        errors["body"] = TEXT["unknown_body"]
    if title.strip():
        try:
            title = check_title(title)
        except Invalid as bad:
            errors.update(bad.errors)
    if body is not None and kind is not None and BodyKind(body.kind) not in kind.bodies:
        errors["kind"] = TEXT["kind_not_for_body"].format(body=body.name, kind=kind.label)
    if body is not None:
        try:
            plan = await schedule.check(conn, body, held_on, starts_at, place, session)
        except Invalid as bad:
            errors.update(bad.errors)
    if errors:
        raise Invalid(errors)
    assert kind is not None and body is not None
    made = await schedule.make(conn, plan, who)
    if not title.strip():
        title = check_title(terms.meeting_title(body.name, made.term_number, made.session_number, kind.label))
    body_kind = BodyKind(body.kind)
    meeting_id = await _insert(
        conn,
        m.meetings,
        body_id=body_id,
        kind=kind.key,
        title=title,
        settings=settings_to_json(kind.settings(body_kind)),
        created_ms=now_ms,
        term_id=made.term_id,
        session_id=made.session_id,
        held_on=made.held_on,
        starts_at=made.starts_at,
        place=made.place,
    )
    for pos, (item_kind, item_title) in enumerate(kind.agenda, start=1):
        await _insert(
            conn, m.agenda_items, meeting_id=meeting_id, position=pos, kind=item_kind, title=item_title
        )
    await audit.record(
        conn,
        "meeting_created",
        actor=who.actor,
        device=who.device,
        body_id=body_id,
        meeting_id=meeting_id,
        title=title,
        kind=kind.key,
        held_on=made.held_on.isoformat(),
        starts_at=made.starts_at,
        place=made.place,
        summary=f"{title}，{days.chinese_day(made.held_on)} {made.starts_at} {made.place}".strip(),
    )
    return meeting_id


async def clone(conn: AsyncConnection, meeting_id: int, now_ms: int) -> int | None:
    """A copy to prepare the next meeting: settings, the chair, agenda (with the progress
    report an item takes and who reports on it), questions and respondents.

    No events, ratings or screen pairings: the copy has not begun.
    """
    source = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()
    if source is None:
        return None
    title = source.title[: TITLE_MAX - len(CLONE_SUFFIX)] + CLONE_SUFFIX
    new_id = await _insert(
        conn,
        m.meetings,
        body_id=source.body_id,
        kind=source.kind,
        title=title,
        settings=source.settings,
        created_ms=now_ms,
        term_id=source.term_id,
        session_id=source.session_id,
        held_on=source.held_on,
        starts_at=source.starts_at,
        place=source.place,
        chair=source.chair,  # the next meeting (or the rehearsal) most often has the same chair
    )
    for item in await conn.execute(
        select(m.agenda_items)
        .where(m.agenda_items.c.meeting_id == meeting_id)
        .order_by(m.agenda_items.c.position)
    ):
        await _insert(
            conn,
            m.agenda_items,
            meeting_id=new_id,
            position=item.position,
            kind=item.kind,
            title=item.title,
            report_id=item.report_id,  # the next meeting (or the rehearsal) hears the same report
            # Who reports: a rehearsal tries the same 述职; the next meeting's staff change it.
            reporter_kind=item.reporter_kind,
            reporter_group_id=item.reporter_group_id,
            reporter_deputy_id=item.reporter_deputy_id,
            reporter_name=item.reporter_name,
            reporter_congress=item.reporter_congress,
        )
    questions = (
        await conn.execute(
            select(m.questions).where(m.questions.c.meeting_id == meeting_id).order_by(m.questions.c.position)
        )
    ).all()
    for q in questions:
        qid = await _insert(
            conn,
            m.questions,
            meeting_id=new_id,
            position=q.position,
            title=q.title,
            text=q.text,
            asker_id=q.asker_id,
            group_id=q.group_id,
        )
        respondents = await conn.execute(
            select(m.question_respondents).where(m.question_respondents.c.question_id == q.id)
        )
        for r in respondents.all():
            await conn.execute(
                insert(m.question_respondents).values(
                    question_id=qid, official_id=r.official_id, position=r.position
                )
            )
    return new_id


async def meeting_row(conn: AsyncConnection, meeting_id: int) -> Any:
    stmt = (
        select(
            m.meetings,
            m.bodies.c.name.label("body_name"),
            m.bodies.c.kind.label("body_kind"),
            m.bodies.c.rules.label("body_rules"),
        )
        .join(m.bodies, m.bodies.c.id == m.meetings.c.body_id)
        .where(m.meetings.c.id == meeting_id)
    )
    return (await conn.execute(stmt)).first()


def settings_of(row: Any) -> Settings:
    return settings_from_json(row.settings, BodyKind(row.body_kind))


async def agenda(conn: AsyncConnection, meeting_id: int) -> list[Any]:
    stmt = (
        select(m.agenda_items)
        .where(m.agenda_items.c.meeting_id == meeting_id)
        .order_by(m.agenda_items.c.position, m.agenda_items.c.id)
    )
    return list((await conn.execute(stmt)).all())


async def edit_agenda(conn: AsyncConnection, meeting_id: int, action: str, form: Mapping[str, str]) -> None:
    """Add, rename, delete or move one agenda item; positions stay 1..n; raises Invalid."""
    items = await agenda(conn, meeting_id)
    if action == "agenda_add":
        kind = check_agenda_kind(form.get("item_kind", ""))
        title = check_title(form.get("item_title", ""), "item_title")
        await _insert(
            conn, m.agenda_items, meeting_id=meeting_id, position=len(items) + 1, kind=kind, title=title
        )
        return
    wanted = parse.row_id(form.get("item_id"))
    index = next((i for i, it in enumerate(items) if it.id == wanted), None)
    if index is None:
        raise Invalid({"item": TEXT["unknown_item"]})
    item_id = items[index].id
    table = m.agenda_items
    if action == "agenda_rename":
        kind = check_agenda_kind(form.get("item_kind", items[index].kind))
        agenda_reports.check_kind(kind, items[index].report_id)
        title = check_title(form.get("item_title", ""), "item_title")
        await conn.execute(update(table).where(table.c.id == item_id).values(title=title, kind=kind))
        return
    order = [it.id for it in items]
    if action == "agenda_delete":
        await conn.execute(delete(table).where(table.c.id == item_id))
        order.remove(item_id)
    elif action in ("agenda_up", "agenda_down"):
        other = index - 1 if action == "agenda_up" else index + 1
        if not 0 <= other < len(order):
            return  # already first or last: nothing to move
        order[index], order[other] = order[other], order[index]
    else:
        raise Invalid({"action": TEXT["unknown_action"]})
    for pos, iid in enumerate(order, start=1):
        await conn.execute(update(table).where(table.c.id == iid).values(position=pos))


async def list_meetings(conn: AsyncConnection) -> list[Any]:
    """Every meeting with its body's name, newest first (the meetings page)."""
    rows = await conn.execute(
        select(
            m.meetings.c.id,
            m.meetings.c.title,
            m.meetings.c.kind,
            m.meetings.c.held_on,
            m.meetings.c.starts_at,
            m.meetings.c.place,
            m.meetings.c.rehearsal,
            m.bodies.c.name.label("body_name"),
        )
        .join(m.bodies, m.bodies.c.id == m.meetings.c.body_id)
        .order_by(m.meetings.c.id.desc())
    )
    return list(rows.all())


async def titles(conn: AsyncConnection, body_id: int | None = None) -> list[Any]:
    """(id, title) of every meeting, or of one body's, oldest first (the home page)."""
    query = select(m.meetings.c.id, m.meetings.c.title).order_by(m.meetings.c.id)
    if body_id is not None:
        query = query.where(m.meetings.c.body_id == body_id)
    return list((await conn.execute(query)).all())


async def save_settings(conn: AsyncConnection, meeting_id: int, row: Any, form: Mapping[str, str]) -> None:
    """The settings form, whole: the title and the rules; raises Invalid with every bad field."""
    errors: dict[str, str] = {}
    try:
        title = check_title(form.get("title", ""))
    except Invalid as bad:
        errors.update(bad.errors)
    try:
        settings = parse_settings(form, settings_of(row))
    except Invalid as bad:
        errors.update(bad.errors)
    if errors:
        raise Invalid(errors)
    await conn.execute(
        update(m.meetings)
        .where(m.meetings.c.id == meeting_id)
        .values(title=title, settings=settings_to_json(settings))
    )


async def save_hall_networks(
    conn: AsyncConnection, meeting_id: int, row: Any, text: str, grace: str | None = None
) -> None:
    """The hall's network and the check-in grace (presence, not rules: they may change once
    the meeting began); ``grace`` None keeps the stored minutes."""
    current = settings_of(row)
    minutes = current.checkin_grace_minutes if grace is None else parse_grace_minutes(grace)
    settings = replace(current, hall_networks=parse_hall_networks(text), checkin_grace_minutes=minutes)
    await conn.execute(
        update(m.meetings).where(m.meetings.c.id == meeting_id).values(settings=settings_to_json(settings))
    )


async def save_chair(conn: AsyncConnection, meeting_id: int, row: Any, raw: str, who: Who) -> None:
    """The chair (主持人) the proceedings name; raises Invalid. A name, not a rule: it may be
    set or corrected after the meeting began (the proceedings are written after it)."""
    chair = check_chair(raw)
    await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(chair=chair))
    await audit.record(
        conn,
        "meeting_edited",
        actor=who.actor,
        device=who.device,
        body_id=row.body_id,
        meeting_id=meeting_id,
        field="chair",  # the trail shows the summary (server/office/audit_text.py)
        chair=chair,
        before=row.chair,
        summary=f"主持人：{chair}" if chair else "清除主持人",
    )
