"""Attendance over the years: per member and per body, and the two-absence rule.

Read from the frozen records (``attendance_records``, server/storage/attendance.py); a
rehearsal has none and is left out anyway. A cell is 出 (present), 迟 (present, late after
the attendance was announced), 离 (present, left part-way and not back), 假 (approved
leave) or 缺 (absent, or leave that was not approved).

代表法 §49: a deputy who twice fails to attend the sessions of the people's congress
without approval (未经批准两次不出席本级人民代表大会会议) loses the mandate. "Twice", not "twice
in a row"; it counts SESSIONS (a congress's numbered 第N次会议, which may have several
sittings), never standing-committee meetings. A deputy is absent from a session when
present at none of its meetings and at least one record of it is 缺 (absent without
approved leave). The count runs within one term (a mandate lasts a term). The system
warns; the termination itself is decided and announced by the body's organs and recorded
on the member's page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import clock_of_ms, day_of_ms, moment_of_ms, session_name, term_name
from server.storage import models as m
from server.storage.attendance import ABSENT, LEAVE, PRESENT

CONGRESS = "congress"
CODE_NAMES = {"出": "出席", "迟": "迟到", "离": "中途离会", "假": "请假", "缺": "缺席"}
CODE_KEYS = {"出": "present", "迟": "late", "离": "left", "假": "leave", "缺": "absent"}  # CSS classes
RULE_LIMIT = 2


@dataclass(frozen=True)
class Mark:
    """One frozen record as the pages show it."""

    status: str
    late: bool = False
    leave_approved: bool = False
    checked_in_ms: int | None = None
    how: str = ""
    left_ms: int | None = None
    returned_ms: int | None = None
    corrected_by: str = ""
    corrected_ms: int | None = None
    by: str = ""  # who checked the deputy in by hand: the staff user's display name

    @property
    def left(self) -> bool:
        """Left part-way and not back (the last time)."""
        return self.left_ms is not None and (self.returned_ms is None or self.returned_ms < self.left_ms)

    @property
    def unapproved(self) -> bool:
        return self.status == ABSENT or (self.status == LEAVE and not self.leave_approved)

    @property
    def code(self) -> str:
        if self.status == PRESENT:
            return "离" if self.left else "迟" if self.late else "出"
        return "缺" if self.unapproved else "假"

    @property
    def key(self) -> str:
        return CODE_KEYS[self.code]

    @property
    def name(self) -> str:
        if self.status == LEAVE and not self.leave_approved:
            return "缺席（请假未批准）"
        return CODE_NAMES[self.code]

    @property
    def how_name(self) -> str:
        if self.how == "hand":
            return f"人工签到（{self.by}）" if self.by else "人工签到"
        return {"phone": "手机签到"}.get(self.how, "")

    @property
    def checked_in_at(self) -> str:
        return clock_of_ms(self.checked_in_ms) if self.checked_in_ms else ""

    @property
    def left_at(self) -> str:
        return clock_of_ms(self.left_ms) if self.left_ms else ""

    @property
    def returned_at(self) -> str:
        return clock_of_ms(self.returned_ms) if self.returned_ms else ""

    @property
    def corrected_at(self) -> str:
        return moment_of_ms(self.corrected_ms) if self.corrected_ms else ""


@dataclass(frozen=True)
class Meeting:
    id: int
    title: str
    held_on: dt.date | None
    term_id: int | None
    session_id: int | None
    closed_ms: int | None = None

    @property
    def on(self) -> dt.date | None:
        """The day it was held on, else the day it closed."""
        return self.held_on or (day_of_ms(self.closed_ms) if self.closed_ms else None)

    @property
    def day(self) -> str:
        return self.on.isoformat() if self.on else ""


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    card_no: str
    group: str


@dataclass
class Grid:
    """Members × meetings of a body (in a term), with each member's totals."""

    meetings: list[Meeting]
    members: list[Member]
    marks: dict[tuple[int, int], Mark]  # (deputy, meeting)
    totals: dict[int, dict[str, int]] = field(default_factory=dict)

    def mark(self, deputy_id: int, meeting_id: int) -> Mark | None:
        return self.marks.get((deputy_id, meeting_id))


@dataclass(frozen=True)
class Warning:
    deputy_id: int
    name: str
    card_no: str
    sessions: tuple[str, ...]  # "第十七届第一次会议", …

    @property
    def count(self) -> int:
        return len(self.sessions)


def _mark(r: Any) -> Mark:
    return Mark(
        r.status,
        bool(r.late),
        bool(r.leave_approved),
        r.checked_in_ms,
        r.how,
        r.left_ms,
        r.returned_ms,
        r.corrected_by,
        r.corrected_ms,
    )


async def body(conn: AsyncConnection, body_id: int) -> Any:
    return (await conn.execute(select(m.bodies).where(m.bodies.c.id == body_id))).first()


async def terms(conn: AsyncConnection, body_id: int) -> list[tuple[int, str]]:
    t = m.terms
    rows = await conn.execute(
        select(t.c.id, t.c.number).where(t.c.body_id == body_id).order_by(t.c.number.desc())
    )
    return [(r.id, term_name(r.number)) for r in rows]


async def _records(
    conn: AsyncConnection, body_id: int, term_id: int | None, deputy_id: int | None
) -> list[Any]:
    ar, mt = m.attendance_records, m.meetings
    stmt = (
        select(ar, mt.c.title, mt.c.held_on, mt.c.term_id, mt.c.session_id, mt.c.created_ms, mt.c.closed_ms)
        .join(mt, mt.c.id == ar.c.meeting_id)
        .where(mt.c.body_id == body_id, mt.c.rehearsal.is_(False))
    )
    if term_id is not None:
        stmt = stmt.where(mt.c.term_id == term_id)
    if deputy_id is not None:
        stmt = stmt.where(ar.c.deputy_id == deputy_id)
    return list((await conn.execute(stmt)).all())


def _meetings(rows: list[Any]) -> list[Meeting]:
    seen: dict[int, tuple[Any, Meeting]] = {}
    for r in rows:
        if r.meeting_id not in seen:
            meeting = _meeting(r)
            seen[r.meeting_id] = ((meeting.on or dt.date.min, r.created_ms, r.meeting_id), meeting)
    return [meeting for _, meeting in sorted(seen.values(), key=lambda x: x[0])]


def _meeting(r: Any) -> Meeting:
    return Meeting(r.meeting_id, r.title, r.held_on, r.term_id, r.session_id, r.closed_ms)


async def _members(conn: AsyncConnection, ids: set[int]) -> list[Member]:
    if not ids:
        return []
    d, g = m.deputies, m.groups
    rows = await conn.execute(
        select(d.c.id, d.c.name, d.c.card_no, g.c.name.label("group_name"))
        .join(g, g.c.id == d.c.group_id)
        .where(d.c.id.in_(ids))
        .order_by(g.c.position, g.c.id, d.c.card_no)
    )
    return [Member(r.id, r.name, r.card_no, r.group_name) for r in rows]


async def grid(conn: AsyncConnection, body_id: int, term_id: int | None = None) -> Grid:
    rows = await _records(conn, body_id, term_id, None)
    marks = {(r.deputy_id, r.meeting_id): _mark(r) for r in rows}
    members = await _members(conn, {r.deputy_id for r in rows})
    totals: dict[int, dict[str, int]] = {}
    for (deputy_id, _), mark in marks.items():
        counts = totals.setdefault(deputy_id, dict.fromkeys(CODE_NAMES, 0))
        counts[mark.code] += 1
    return Grid(_meetings(rows), members, marks, totals)


async def member(conn: AsyncConnection, body_id: int, deputy_id: int) -> Member | None:
    found = await _members(conn, {deputy_id})
    d = m.deputies
    owner = (await conn.execute(select(d.c.body_id).where(d.c.id == deputy_id))).scalar()
    return found[0] if found and owner == body_id else None


async def member_history(
    conn: AsyncConnection, body_id: int, deputy_id: int, term_id: int | None = None
) -> list[tuple[Meeting, Mark]]:
    """The member's records, oldest meeting first."""
    rows = await _records(conn, body_id, term_id, deputy_id)
    by_meeting = {r.meeting_id: _mark(r) for r in rows}
    hands = {mid for mid, mark in by_meeting.items() if mark.how == "hand"}
    for mid, who in (await _checked_in_by(conn, deputy_id, hands)).items():
        by_meeting[mid] = replace(by_meeting[mid], by=who)
    return [(meeting, by_meeting[meeting.id]) for meeting in _meetings(rows)]


async def _checked_in_by(conn: AsyncConnection, deputy_id: int, meeting_ids: set[int]) -> dict[int, str]:
    """meeting -> the staff user (display name) whose check-in of the deputy the record
    holds: the last ``DeputyCheckedIn`` in the log, whose actor is ``staff:<username>``."""
    if not meeting_ids:
        return {}
    ev = m.events
    rows = await conn.execute(
        select(ev.c.meeting_id, ev.c.data, ev.c.actor)
        .where(ev.c.meeting_id.in_(meeting_ids), ev.c.type == "DeputyCheckedIn")
        .order_by(ev.c.seq)
    )
    usernames: dict[int, str] = {}
    for r in rows:
        if json.loads(r.data or "{}").get("deputy_id") == deputy_id:
            usernames[int(r.meeting_id)] = str(r.actor).partition(":")[2]
    users = m.users
    names = dict(
        (
            await conn.execute(
                select(users.c.username, users.c.display_name).where(
                    users.c.username.in_(set(usernames.values()))
                )
            )
        ).all()
    )
    return {mid: str(names.get(u) or u) for mid, u in usernames.items() if u}


async def _session_names(conn: AsyncConnection, session_ids: set[int]) -> dict[int, tuple[int, str]]:
    """session id → (term id, "第十七届第一次会议")."""
    if not session_ids:
        return {}
    s, t = m.sessions, m.terms
    rows = await conn.execute(
        select(s.c.id, s.c.number, s.c.term_id, t.c.number.label("term_number"))
        .join(t, t.c.id == s.c.term_id)
        .where(s.c.id.in_(session_ids))
    )
    return {r.id: (r.term_id, term_name(r.term_number) + session_name(r.number)) for r in rows}


async def session_absences(
    conn: AsyncConnection, body_id: int, deputy_id: int | None = None
) -> dict[int, dict[int, list[str]]]:
    """deputy → term → the sessions the deputy missed without approval (代表法 §49).

    Empty for a body that is not a people's congress: a standing committee's meetings
    never count.
    """
    found = await body(conn, body_id)
    if found is None or found.kind != CONGRESS:
        return {}
    rows = [r for r in await _records(conn, body_id, None, deputy_id) if r.session_id is not None]
    seen: dict[tuple[int, int], list[Mark]] = defaultdict(list)  # (deputy, session) → its records
    for r in rows:
        seen[(r.deputy_id, r.session_id)].append(_mark(r))
    names = await _session_names(conn, {s for _, s in seen})
    out: dict[int, dict[int, list[str]]] = {}
    for (who, session_id), marks in sorted(seen.items()):
        attended = any(mk.status == PRESENT for mk in marks)
        if attended or not any(mk.unapproved for mk in marks) or session_id not in names:
            continue
        term_id, name = names[session_id]
        out.setdefault(who, {}).setdefault(term_id, []).append(name)
    return out


async def warnings(conn: AsyncConnection, body_id: int) -> list[Warning]:
    """The members who have reached two unapproved session absences within a term."""
    counted = await session_absences(conn, body_id)
    hit = {
        who: sessions
        for who, by_term in counted.items()
        for sessions in by_term.values()
        if len(sessions) >= RULE_LIMIT
    }
    members = await _members(conn, set(hit))
    return [Warning(mb.id, mb.name, mb.card_no, tuple(hit[mb.id])) for mb in members]


async def deputy_absences(conn: AsyncConnection, deputy_id: int) -> list[str]:
    """The sessions this deputy missed without approval in the term with the most (the phone's notice)."""
    ar = m.attendance_records
    missed_any = select(ar.c.meeting_id).where(ar.c.deputy_id == deputy_id, ar.c.status != PRESENT).limit(1)
    if (await conn.execute(missed_any)).first() is None:  # the usual answer, in one indexed read
        return []
    owner = (await conn.execute(select(m.deputies.c.body_id).where(m.deputies.c.id == deputy_id))).scalar()
    if owner is None:
        return []
    by_term = (await session_absences(conn, int(owner), deputy_id)).get(deputy_id, {})
    return max(by_term.values(), key=len, default=[])


def organ(level: str) -> str:
    """Who confirms and announces the termination (DOMAIN.md): in a town the congress's
    presidium, above it the standing committee, on the report of the credentials committee."""
    if level == "town":
        return "代表资格审查委员会报本级人民代表大会主席团"
    return "代表资格审查委员会报本级人民代表大会常务委员会"
