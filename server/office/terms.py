"""A body's terms (届) and the numbered sessions within them (第三次会议).

A term runs from ``starts_on`` to the start of ``ends_on`` (the day the next term begins;
unset while no end is known), the same half-open days as mandates
(:func:`server.base.days.covers`). Terms of one body never overlap, and every meeting of a
term is held within it. Sessions are numbered within their term; the next number is
offered. Every change is recorded in the audit trail here, in the caller's transaction;
bad input raises :class:`Invalid` with a Chinese message per field and writes nothing.

A meeting's name is built from them (:func:`meeting_title`):
清溪镇人民代表大会, 第十七届, 第三次会议 → 清溪镇第十七届人民代表大会第三次会议.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base import days, parse
from server.office.bodies import Who
from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage import models as m

NUMBER_MAX = 99

TEXT: Mapping[str, str] = MappingProxyType(
    {
        "number": f"届次须为 1 至 {NUMBER_MAX} 之间的整数，如 17。",
        "number_taken": "本机构已有{term}。",
        "end_before_start": "届满日期须晚于开始日期。",
        "overlap": "与{term}（{span}）的任期重叠：同一机构的各届任期不能重叠。",
        "meeting_outside": "{title}（{day}）将不在本届任期内，请先调整这次会议的日期。",
        "no_term": "找不到这一届。",
        "no_body": "找不到这个机构。",
        "no_terms": "本机构还没有届次，请先在机构页面添加届次。",
        "session_number": f"会次须为 1 至 {NUMBER_MAX} 之间的整数，如 3。",
        "session_taken": "本届已有{session}。",
        "term_number_missing": "本机构没有{term}，请先在机构页面添加这一届。",
    }
)


def _number(raw: str | int | None, key: str, text: str) -> int:
    value = raw if isinstance(raw, int) else parse.integer(str(raw or "").strip(), 1, NUMBER_MAX)
    if value is None or not 1 <= value <= NUMBER_MAX:
        raise Invalid({key: TEXT[text]})
    return value


def _day(raw: str | dt.date | None, key: str, what: str, *, optional: bool = False) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    try:
        return days.parse_optional_day(raw or "", what) if optional else days.parse_day(raw or "", what)
    except days.BadDay as bad:
        raise Invalid({key: str(bad)}) from None


def span(starts_on: dt.date, ends_on: dt.date | None) -> str:
    return f"{starts_on.isoformat()} 起" + (f"，{ends_on.isoformat()} 届满" if ends_on else "")


def _named(number: int, starts_on: dt.date, ends_on: dt.date | None) -> str:
    return f"{days.term_name(number)}（{span(starts_on, ends_on)}）"


# -- reading ---------------------------------------------------------------------------------


@dataclass
class SessionView:
    id: int
    number: int
    name: str
    meetings: list[Any] = field(default_factory=list)


@dataclass
class TermView:
    id: int
    number: int
    name: str
    starts_on: dt.date
    ends_on: dt.date | None
    sessions: list[SessionView] = field(default_factory=list)
    loose: list[Any] = field(default_factory=list)  # meetings in no session

    @property
    def span(self) -> str:
        return span(self.starts_on, self.ends_on)

    @property
    def next_session(self) -> int:
        return max((s.number for s in self.sessions), default=0) + 1


async def terms_of(conn: AsyncConnection, body_id: int) -> list[TermView]:
    """A body's terms, newest first, with their sessions and meetings."""
    t, s, mt = m.terms, m.sessions, m.meetings
    terms = [
        TermView(r.id, r.number, days.term_name(r.number), r.starts_on, r.ends_on)
        for r in await conn.execute(select(t).where(t.c.body_id == body_id).order_by(t.c.starts_on.desc()))
    ]
    by_term = {term.id: term for term in terms}
    by_session: dict[int, SessionView] = {}
    for r in await conn.execute(
        select(s).join(t, t.c.id == s.c.term_id).where(t.c.body_id == body_id).order_by(s.c.number)
    ):
        view = SessionView(r.id, r.number, days.session_name(r.number))
        by_session[r.id] = view
        by_term[r.term_id].sessions.append(view)
    meetings = await conn.execute(
        select(mt.c.id, mt.c.title, mt.c.kind, mt.c.term_id, mt.c.session_id, mt.c.held_on, mt.c.starts_at)
        .where(mt.c.body_id == body_id, mt.c.term_id.is_not(None))
        .order_by(mt.c.held_on, mt.c.id)
    )
    for r in meetings:
        if r.session_id in by_session:
            by_session[r.session_id].meetings.append(r)
        elif r.term_id in by_term:
            by_term[r.term_id].loose.append(r)
    return terms


async def term_row(conn: AsyncConnection, term_id: int) -> Any:
    return (await conn.execute(select(m.terms).where(m.terms.c.id == term_id))).first()


async def term_covering(conn: AsyncConnection, body_id: int, day: dt.date) -> Any:
    t = m.terms
    for row in await conn.execute(select(t).where(t.c.body_id == body_id).order_by(t.c.starts_on.desc())):
        if days.covers(row.starts_on, row.ends_on, day):
            return row
    return None


async def term_by_number(conn: AsyncConnection, body_id: int, number: int) -> Any:
    t = m.terms
    return (await conn.execute(select(t).where(t.c.body_id == body_id, t.c.number == number))).first()


async def current_term(conn: AsyncConnection, body_id: int) -> Any:
    """The term running today, else the latest one, else None."""
    running = await term_covering(conn, body_id, days.today())
    if running is not None:
        return running
    t = m.terms
    return (
        await conn.execute(select(t).where(t.c.body_id == body_id).order_by(t.c.starts_on.desc()).limit(1))
    ).first()


async def sessions_of(conn: AsyncConnection, term_id: int) -> list[Any]:
    s = m.sessions
    return list((await conn.execute(select(s).where(s.c.term_id == term_id).order_by(s.c.number))).all())


async def next_session_number(conn: AsyncConnection, term_id: int) -> int:
    s = m.sessions
    top = (await conn.execute(select(func.max(s.c.number)).where(s.c.term_id == term_id))).scalar()
    return int(top or 0) + 1


# -- writing ---------------------------------------------------------------------------------


async def _check_term(
    conn: AsyncConnection,
    body_id: int,
    number: str | int,
    starts_on: str | dt.date,
    ends_on: str | dt.date | None,
    but: int | None = None,
) -> tuple[int, dt.date, dt.date | None]:
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    for key, check in (
        ("number", lambda: _number(number, "number", "number")),
        ("starts_on", lambda: _day(starts_on, "starts_on", "开始日期")),
        ("ends_on", lambda: _day(ends_on, "ends_on", "届满日期", optional=True)),
    ):
        try:
            checked[key] = check()
        except Invalid as bad:
            errors.update(bad.errors)
    if errors:
        raise Invalid(errors)
    n, start, end = checked["number"], checked["starts_on"], checked["ends_on"]
    if end is not None and end <= start:
        raise Invalid({"ends_on": TEXT["end_before_start"]})
    t = m.terms
    for other in await conn.execute(select(t).where(t.c.body_id == body_id).order_by(t.c.starts_on)):
        if other.id == but:
            continue
        if other.number == n:
            raise Invalid({"number": TEXT["number_taken"].format(term=days.term_name(n))})
        if days.overlaps(start, end, other.starts_on, other.ends_on):
            name = days.term_name(other.number)
            raise Invalid(
                {"starts_on": TEXT["overlap"].format(term=name, span=span(other.starts_on, other.ends_on))}
            )
    return n, start, end


async def add_term(
    conn: AsyncConnection,
    body_id: int,
    number: str | int,
    starts_on: str | dt.date,
    ends_on: str | dt.date | None,
    who: Who,
) -> int:
    if (await conn.execute(select(m.bodies.c.id).where(m.bodies.c.id == body_id))).first() is None:
        raise Invalid({"body": TEXT["no_body"]})
    n, start, end = await _check_term(conn, body_id, number, starts_on, ends_on)
    result = await conn.execute(
        insert(m.terms)
        .values(body_id=body_id, number=n, starts_on=start, ends_on=end)
        .returning(m.terms.c.id)
    )
    term_id = int(result.scalar_one())
    await audit.record(
        conn,
        "term_added",
        actor=who.actor,
        device=who.device,
        body_id=body_id,
        term=n,
        starts_on=start.isoformat(),
        ends_on=end.isoformat() if end else "",
        summary=f"{days.term_name(n)}，{span(start, end)}",
    )
    return term_id


async def edit_term(
    conn: AsyncConnection,
    term_id: int,
    number: str | int,
    starts_on: str | dt.date,
    ends_on: str | dt.date | None,
    who: Who,
) -> None:
    row = await term_row(conn, term_id)
    if row is None:
        raise Invalid({"term": TEXT["no_term"]})
    n, start, end = await _check_term(conn, row.body_id, number, starts_on, ends_on, but=term_id)
    mt = m.meetings
    for meeting in await conn.execute(
        select(mt.c.title, mt.c.held_on).where(mt.c.term_id == term_id, mt.c.held_on.is_not(None))
    ):
        if not days.covers(start, end, meeting.held_on):
            text = TEXT["meeting_outside"].format(title=meeting.title, day=meeting.held_on.isoformat())
            raise Invalid({"starts_on" if meeting.held_on < start else "ends_on": text})
    before = (row.number, row.starts_on, row.ends_on)
    if before == (n, start, end):
        return
    await conn.execute(
        update(m.terms).where(m.terms.c.id == term_id).values(number=n, starts_on=start, ends_on=end)
    )
    await audit.record(
        conn,
        "term_edited",
        actor=who.actor,
        device=who.device,
        body_id=row.body_id,
        term=n,
        before=[row.number, row.starts_on.isoformat(), row.ends_on.isoformat() if row.ends_on else ""],
        after=[n, start.isoformat(), end.isoformat() if end else ""],
        summary=f"{_named(row.number, row.starts_on, row.ends_on)} → {_named(n, start, end)}",
    )


async def add_session(
    conn: AsyncConnection, term_id: int, number: str | int | None, who: Who
) -> tuple[int, int]:
    """A session of the term, numbered ``number`` (``None`` or "": the next); (id, number)."""
    row = await term_row(conn, term_id)
    if row is None:
        raise Invalid({"term": TEXT["no_term"]})
    if number is None or (isinstance(number, str) and not number.strip()):
        n = await next_session_number(conn, term_id)
    else:
        n = _number(number, "number", "session_number")
    s = m.sessions
    if (await conn.execute(select(s.c.id).where(s.c.term_id == term_id, s.c.number == n))).first():
        raise Invalid({"number": TEXT["session_taken"].format(session=days.session_name(n))})
    result = await conn.execute(insert(s).values(term_id=term_id, number=n).returning(s.c.id))
    session_id = int(result.scalar_one())
    await audit.record(
        conn,
        "session_added",
        actor=who.actor,
        device=who.device,
        body_id=row.body_id,
        term=row.number,
        session=n,
        summary=days.term_name(row.number) + days.session_name(n),
    )
    return session_id, n


# -- a meeting's name ------------------------------------------------------------------------

# Where the term goes inside a body's name: 清溪镇|人民代表大会, 某县|人大常委会.
_ORGAN_STARTS = ("人民代表大会", "人大常委会", "人大")


def meeting_title(body_name: str, term_number: int, session_number: int | None, kind_label: str) -> str:
    """清溪镇人民代表大会, 17, 3, 年中人代会 → 清溪镇第十七届人民代表大会第三次会议（年中人代会）."""
    term = days.term_name(term_number)
    if term in body_name:  # a body named with its term (older installs: 清溪镇第十七届人民代表大会)
        title = body_name
    else:
        at = min((i for i in (body_name.find(o) for o in _ORGAN_STARTS) if i >= 0), default=len(body_name))
        title = body_name[:at] + term + body_name[at:]
    if session_number is not None:
        title += days.session_name(session_number)
    return f"{title}（{kind_label}）" if kind_label else title
