"""When and where a meeting is held, and the term and session it belongs to.

A meeting is held on a day inside one of its body's terms (the term is found from the day,
never typed) and, for a people's congress, in one numbered session of that term (chosen,
or the next one created on the spot). A standing committee's meeting may name a session
(its 第二十一次会议) or none. Staff change the day, time, place and session until the
meeting begins (the edit page refuses every change once it has events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import BodyKind
from server.base import days, parse
from server.office import terms
from server.office.bodies import Who
from server.office.meeting_forms import Invalid
from server.storage import models as m

PLACE_MAX = 128
NEW = "new"

TEXT: Mapping[str, str] = MappingProxyType(
    {
        "no_term": "{day}不在{body}任何一届的任期内。请先在机构页面（/bodies/{body_id}）添加或调整届次。",
        "place": f"会议地点不能超过 {PLACE_MAX} 个字，且不能含控制字符。",
        "session_needed": "人民代表大会的会议须属于某一次会议：请选择会次，或选“新建会次”。",
        "no_session": "{term}没有{session}：请选择已有的会次，或选“新建会次”。",
        "session": "会次须为已有会次的序号，或“新建会次”。",
    }
)


@dataclass(frozen=True)
class Schedule:
    term_id: int
    term_number: int
    session_id: int | None
    session_number: int | None
    held_on: dt.date
    starts_at: str
    place: str
    new_session: bool = False  # checked, not yet made: :func:`make` creates the next session


def _place(raw: str) -> str:
    place = " ".join((raw or "").split())
    if len(place) > PLACE_MAX or parse.text(place, PLACE_MAX) is None:
        raise Invalid({"place": TEXT["place"]})
    return place


async def check(
    conn: AsyncConnection, body: Any, held_on: str | dt.date, starts_at: str, place: str, session: str
) -> Schedule:
    """Everything checked, nothing written; raises Invalid with every bad field."""
    errors: dict[str, str] = {}
    day: dt.date | None = None
    try:
        day = held_on if isinstance(held_on, dt.date) else days.parse_day(held_on or "", "会议日期")
    except days.BadDay as bad:
        errors["held_on"] = str(bad)
    try:
        clock = days.parse_clock(starts_at or "", "开始时间")
    except days.BadDay as bad:
        errors["starts_at"] = str(bad)
    try:
        where = _place(place)
    except Invalid as bad:
        errors.update(bad.errors)
    term = None
    if day is not None:
        term = await terms.term_covering(conn, body.id, day)
        if term is None:
            errors["held_on"] = TEXT["no_term"].format(
                day=days.chinese_day(day), body=body.name, body_id=body.id
            )
    wanted = (session or "").strip()
    number: int | None = None
    if wanted and wanted != NEW:
        number = parse.integer(wanted, 1, terms.NUMBER_MAX)
        if number is None:
            errors["session"] = TEXT["session"]
    elif not wanted and body.kind == BodyKind.CONGRESS.value:
        errors["session"] = TEXT["session_needed"]
    session_id: int | None = None
    if term is not None and number is not None:
        found = (
            await conn.execute(
                select(m.sessions.c.id).where(m.sessions.c.term_id == term.id, m.sessions.c.number == number)
            )
        ).scalar()
        if found is None:
            errors["session"] = TEXT["no_session"].format(
                term=days.term_name(term.number), session=days.session_name(number)
            )
        session_id = int(found) if found is not None else None
    if errors:
        raise Invalid(errors)
    assert term is not None and day is not None
    return Schedule(term.id, term.number, session_id, number, day, clock, where, wanted == NEW)


async def make(conn: AsyncConnection, plan: Schedule, who: Who) -> Schedule:
    """The checked plan, with its new session created (audited) when it asked for one."""
    if not plan.new_session:
        return plan
    session_id, number = await terms.add_session(conn, plan.term_id, None, who)
    return replace(plan, session_id=session_id, session_number=number, new_session=False)


async def save(conn: AsyncConnection, meeting_id: int, row: Any, form: Mapping[str, str], who: Who) -> None:
    """The edit page's 时间地点 form: day, time, place and session, before the meeting begins."""
    body = (await conn.execute(select(m.bodies).where(m.bodies.c.id == row.body_id))).one()
    wanted = await check(
        conn,
        body,
        form.get("held_on", ""),
        form.get("starts_at", ""),
        form.get("place", ""),
        form.get("session", ""),
    )
    plan = await make(conn, wanted, who)
    await conn.execute(
        update(m.meetings)
        .where(m.meetings.c.id == meeting_id)
        .values(
            term_id=plan.term_id,
            session_id=plan.session_id,
            held_on=plan.held_on,
            starts_at=plan.starts_at,
            place=plan.place,
        )
    )


async def session_number(conn: AsyncConnection, session_id: int | None) -> int | None:
    if session_id is None:
        return None
    found = (await conn.execute(select(m.sessions.c.number).where(m.sessions.c.id == session_id))).scalar()
    return int(found) if found is not None else None
