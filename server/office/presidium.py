"""The presidium (主席团) of a people's congress: who sits on it, set as one list.

A county or higher congress elects a presidium at each session (``presidium_members`` rows
with ``session_id`` set); a town congress's presidium serves the whole term
(``session_id`` unset): it is the congress's standing organ between sessions and
balances the questions of an inquiry session beforehand. A standing committee has none.

Members are chosen from the deputies who are members of the body, and not suspended, on
the relevant day: for a session, the day of its first sitting (else today, within the
term); for a town term, today within the term. The list is replaced whole, with one
``presidium_set`` entry in the audit trail naming every member. Bad input raises
:class:`Invalid` with a Chinese message before anything is written. Every function runs
inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import BodyKind
from server.base.days import chinese_day, session_name, term_name, today
from server.office.meeting_forms import Invalid
from server.storage import audit, members
from server.storage import models as m

MEMBER = "主席团成员"
EXECUTIVE = "常务主席"
ROLES = (MEMBER, EXECUTIVE)  # the first is the default
MAX_MEMBERS = 99

TEXT = {
    "no_body": "找不到这个机构。",
    "standing": "常务委员会不设主席团：主席团是人民代表大会的组织。",
    "no_term": "找不到这一届，请先在机构页面新增届次。",
    "no_session": "找不到这次会议（会次），请先在机构页面新增会次。",
    "town_session": "乡镇人民代表大会的主席团每届一个，不按会次设置。",
    "not_member": "{name}在{day}不是本机构的代表，不能担任主席团成员。",
    "unknown_deputy": "所选代表不在本机构名单中。",
    "suspended": "{name}在{day}暂停执行代表职务，不能担任主席团成员。",
    "role": "职务只能是：" + "、".join(ROLES) + "。",
    "too_many": f"主席团成员不能超过 {MAX_MEMBERS} 人。",
    "no_presidium": "这次会议不属于某一届（会次），无法确定主席团。",
}


@dataclass(frozen=True)
class Scope:
    """Whose presidium: a term (town) or one session of a term (county and higher)."""

    body_id: int
    body_name: str
    town: bool
    term_id: int
    term_number: int
    starts_on: dt.date
    ends_on: dt.date | None
    session_id: int | None
    session_number: int | None

    @property
    def name(self) -> str:
        """ "第十七届第三次会议主席团" or "第十七届主席团"."""
        session = session_name(self.session_number) if self.session_number else ""
        return f"{term_name(self.term_number)}{session}主席团"


@dataclass(frozen=True)
class Member:
    deputy_id: int
    name: str
    group: str
    card_no: str
    role: str


async def body_row(conn: AsyncConnection, body_id: int) -> Any:
    return (await conn.execute(select(m.bodies).where(m.bodies.c.id == body_id))).first()


def has_presidium(body: Any) -> bool:
    return bool(body is not None and body.kind == BodyKind.CONGRESS.value)


def is_town(body: Any) -> bool:
    return bool(body.level == "town")


async def terms_of(conn: AsyncConnection, body_id: int) -> list[Any]:
    t = m.terms
    return list((await conn.execute(select(t).where(t.c.body_id == body_id).order_by(t.c.number))).all())


async def sessions_of(conn: AsyncConnection, body_id: int) -> list[Any]:
    """Every session of the body's terms, with its term's number, oldest first."""
    s, t = m.sessions, m.terms
    stmt = (
        select(s, t.c.number.label("term_number"))
        .join(t, t.c.id == s.c.term_id)
        .where(t.c.body_id == body_id)
        .order_by(t.c.number, s.c.number)
    )
    return list((await conn.execute(stmt)).all())


async def scope(conn: AsyncConnection, body_id: int, term_id: int | None, session_id: int | None) -> Scope:
    """The presidium asked for, checked: a town's by term, a county's by session."""
    body = await body_row(conn, body_id)
    if body is None:
        raise Invalid({"body": TEXT["no_body"]})
    if not has_presidium(body):
        raise Invalid({"body": TEXT["standing"]})
    town = is_town(body)
    session = None
    if session_id is not None:
        if town:
            raise Invalid({"session": TEXT["town_session"]})
        session = (await conn.execute(select(m.sessions).where(m.sessions.c.id == session_id))).first()
        if session is None:
            raise Invalid({"session": TEXT["no_session"]})
        term_id = int(session.term_id)
    elif not town:
        raise Invalid({"session": TEXT["no_session"]})
    t = m.terms
    term = (
        (await conn.execute(select(t).where(t.c.id == term_id, t.c.body_id == body_id))).first()
        if term_id is not None
        else None
    )
    if term is None:
        key = "session" if session is not None else "term"
        raise Invalid({key: TEXT["no_session" if session is not None else "no_term"]})
    return Scope(
        body_id,
        str(body.name),
        town,
        int(term.id),
        int(term.number),
        term.starts_on,
        term.ends_on,
        int(session.id) if session is not None else None,
        int(session.number) if session is not None else None,
    )


def _within_term(where: Scope, day: dt.date) -> dt.date:
    if day < where.starts_on:
        return where.starts_on
    if where.ends_on is not None and day >= where.ends_on:
        return where.ends_on - dt.timedelta(days=1)
    return day


async def relevant_day(conn: AsyncConnection, where: Scope) -> dt.date:
    """The day whose members may sit: a session's first sitting, else today within the term."""
    if where.session_id is not None:
        mt = m.meetings
        first = (
            await conn.execute(select(func.min(mt.c.held_on)).where(mt.c.session_id == where.session_id))
        ).scalar()
        if isinstance(first, dt.date):
            return first
    return _within_term(where, today())


async def candidates(conn: AsyncConnection, where: Scope, day: dt.date) -> list[Member]:
    """The deputies who may sit on the presidium: members that day, not suspended."""
    on = await members.on_day(conn, where.body_id, day)
    eligible = on.members - on.suspended
    return [d for d in await _deputies(conn, where.body_id) if d.deputy_id in eligible]


async def _deputies(conn: AsyncConnection, body_id: int) -> list[Member]:
    d, g = m.deputies, m.groups
    stmt = (
        select(d.c.id, d.c.name, d.c.card_no, g.c.name.label("group_name"))
        .join(g, g.c.id == d.c.group_id)
        .where(d.c.body_id == body_id)
        .order_by(g.c.position, g.c.id, d.c.card_no)
    )
    return [Member(int(r.id), r.name, r.group_name, r.card_no, "") for r in await conn.execute(stmt)]


def _where_scope(where: Scope) -> Any:
    p = m.presidium_members
    if where.session_id is None:
        return (p.c.term_id == where.term_id) & p.c.session_id.is_(None)
    return p.c.session_id == where.session_id


async def current(conn: AsyncConnection, where: Scope) -> list[Member]:
    """The presidium as it stands, in the order it was set (常务主席 first)."""
    p = m.presidium_members
    d, g = m.deputies, m.groups
    stmt = (
        select(d.c.id, d.c.name, d.c.card_no, g.c.name.label("group_name"), p.c.role)
        .join(d, d.c.id == p.c.deputy_id)
        .join(g, g.c.id == d.c.group_id)
        .where(_where_scope(where))
        .order_by(p.c.id)
    )
    return [
        Member(int(r.id), r.name, r.group_name, r.card_no, r.role or MEMBER) for r in await conn.execute(stmt)
    ]


async def set_members(
    conn: AsyncConnection,
    where: Scope,
    chosen: Sequence[tuple[int, str]],
    *,
    actor: str,
    device: str,
) -> list[Member]:
    """Replace the presidium with ``chosen`` (deputy id, role); audited as one entry."""
    day = await relevant_day(conn, where)
    everyone = {d.deputy_id: d for d in await _deputies(conn, where.body_id)}
    on = await members.on_day(conn, where.body_id, day)
    picked = list(dict((i, r or MEMBER) for i, r in chosen).items())  # one row per deputy, first role kept
    errors: list[str] = []
    if len(picked) > MAX_MEMBERS:
        errors.append(TEXT["too_many"])
    for deputy_id, role in picked:
        found = everyone.get(deputy_id)
        if found is None:
            errors.append(TEXT["unknown_deputy"])
        elif deputy_id not in on.members:
            errors.append(TEXT["not_member"].format(name=found.name, day=chinese_day(day)))
        elif deputy_id in on.suspended:
            errors.append(TEXT["suspended"].format(name=found.name, day=chinese_day(day)))
        if role not in ROLES:
            errors.append(TEXT["role"])
    if errors:
        raise Invalid({"members": "".join(dict.fromkeys(errors))})
    # The chair first, then the others in the roster's order.
    ordered = sorted(picked, key=lambda p: (ROLES.index(p[1]) != 1, list(everyone).index(p[0])))
    p = m.presidium_members
    await conn.execute(delete(p).where(_where_scope(where)))
    for deputy_id, role in ordered:
        await conn.execute(
            insert(p).values(
                term_id=where.term_id, session_id=where.session_id, deputy_id=deputy_id, role=role
            )
        )
    result = [Member(i, everyone[i].name, everyone[i].group, everyone[i].card_no, r) for i, r in ordered]
    shown = "、".join(f"{x.name}（{x.role}）" if x.role != MEMBER else x.name for x in result) or "（无）"
    await audit.record(
        conn,
        "presidium_set",
        actor=actor,
        device=device,
        body_id=where.body_id,
        term_id=where.term_id,
        session_id=where.session_id,
        members=[{"deputy_id": x.deputy_id, "name": x.name, "role": x.role} for x in result],
        summary=f"{where.name}：{shown}",
    )
    return result


async def of_meeting(conn: AsyncConnection, meeting_id: int) -> tuple[Scope, list[Member]]:
    """The presidium a meeting's questions are reviewed by: its session's (county and
    higher) or its term's (town). Raises :class:`Invalid` when the meeting has none."""
    row = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()
    if row is None:
        raise Invalid({"meeting": TEXT["no_presidium"]})
    body = await body_row(conn, row.body_id)
    if not has_presidium(body):
        raise Invalid({"meeting": TEXT["standing"]})
    if row.term_id is None or (not is_town(body) and row.session_id is None):
        raise Invalid({"meeting": TEXT["no_presidium"]})
    where = await scope(conn, row.body_id, row.term_id, None if is_town(body) else row.session_id)
    return where, await current(conn, where)


async def summary(conn: AsyncConnection, body_id: int) -> str | None:
    """One line for the body's page: the newest presidium, or None for a standing committee.

    E.g. "第十七届第三次会议主席团：12 人" or "尚未设置主席团"."""
    body = await body_row(conn, body_id)
    if not has_presidium(body):
        return None
    p, t = m.presidium_members, m.terms
    newest = (
        await conn.execute(
            select(p.c.term_id, p.c.session_id, func.count().label("n"))
            .join(t, t.c.id == p.c.term_id)
            .where(t.c.body_id == body_id)
            .group_by(p.c.term_id, p.c.session_id)
            .order_by(p.c.term_id.desc(), p.c.session_id.desc())
            .limit(1)
        )
    ).first()
    if newest is None:
        return "尚未设置主席团"
    try:
        where = await scope(conn, body_id, newest.term_id, newest.session_id)
    except Invalid:  # rows of another level (the body's level was changed since)
        return "尚未设置主席团"
    return f"{where.name}：{newest.n} 人"
