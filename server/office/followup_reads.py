"""Follow-up (督办) reads for the staff pages: the decision form, the board, an item.

The board's order, overdue and the reminders are computed on each request from the China
date the caller passes (server/office/followup_rules.py): no stored flag, no cron job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import followup_hall
from server.office import followup_rules as rules
from server.storage import models as m


@dataclass(frozen=True)
class Card:
    """One item on the board."""

    id: int
    title: str
    meeting: str
    meeting_id: int | None
    asker: str
    lead: str
    organs: tuple[str, ...]
    priority: bool
    status: str
    reply_class: str | None
    reply_due: dt.date
    overdue: bool
    soon: bool

    @property
    def status_name(self) -> str:
        return rules.STATUSES[self.status]


@dataclass(frozen=True)
class Board:
    cards: list[Card]
    total: int
    closed: int
    open: int
    overdue: int
    within_week: int
    meetings: list[tuple[int, str]] = field(default_factory=list)
    organs: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Filters:
    meeting_id: int | None = None
    organ_id: int | None = None
    status: str | None = None  # a status, or "overdue"
    priority: bool = False


async def decision_form(conn: AsyncConnection, meeting_id: int) -> tuple[Any, Any, list[Any]]:
    """(meeting row with its body's kind, or None; its decision or None; its questions in order)."""
    mt, b = m.meetings, m.bodies
    meeting = (
        await conn.execute(
            select(mt, b.c.kind.label("body_kind"))
            .join(b, b.c.id == mt.c.body_id)
            .where(mt.c.id == meeting_id)
        )
    ).first()
    fd = m.followup_decisions
    decision = (await conn.execute(select(fd).where(fd.c.meeting_id == meeting_id))).first()
    q = m.questions
    questions = list(
        (await conn.execute(select(q).where(q.c.meeting_id == meeting_id).order_by(q.c.position))).all()
    )
    return meeting, decision, questions


async def decided(conn: AsyncConnection, decision_id: int) -> tuple[list[Any], list[Any]]:
    """A decision's items and its closed questions (with their reasons)."""
    fi, cq, q = m.followup_items, m.followup_closed_questions, m.questions
    items = list(
        (await conn.execute(select(fi).where(fi.c.decision_id == decision_id).order_by(fi.c.id))).all()
    )
    closed = list(
        (
            await conn.execute(
                select(q.c.title, cq.c.reason)
                .join(q, q.c.id == cq.c.question_id)
                .where(cq.c.decision_id == decision_id)
                .order_by(q.c.position)
            )
        ).all()
    )
    return items, closed


async def item_organs(conn: AsyncConnection, item_ids: list[int]) -> dict[int, list[tuple[int, str, bool]]]:
    """Each item's responsible organs as (id, name, lead), the lead first, then by name;
    every id asked is a key. Names only: never an organ's contact or phone."""
    fio, o = m.followup_item_organs, m.organs
    out: dict[int, list[tuple[int, str, bool]]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    rows = await conn.execute(
        select(fio.c.item_id, o.c.id, o.c.name, fio.c.lead)
        .join(o, o.c.id == fio.c.organ_id)
        .where(fio.c.item_id.in_(item_ids))
        .order_by(fio.c.lead.desc(), o.c.name)
    )
    for item_id, organ_id, name, lead in rows:
        out[int(item_id)].append((int(organ_id), str(name), bool(lead)))
    return out


async def item_organ_names(conn: AsyncConnection, item_ids: list[int]) -> dict[int, list[tuple[str, bool]]]:
    """:func:`item_organs` as (name, lead): what the public page, a phone and the report show."""
    found = await item_organs(conn, item_ids)
    return {i: [(name, lead) for _, name, lead in organs] for i, organs in found.items()}


async def board(conn: AsyncConnection, body_id: int, today: dt.date, filters: Filters) -> Board:
    """The body's items: counts over all of them, the cards the filters keep in the
    board's order (overdue, due within 14 days, the rest, closed last)."""
    fi, mt = m.followup_items, m.meetings
    rows = list(
        (
            await conn.execute(
                select(fi, mt.c.title.label("meeting_title"))
                .outerjoin(mt, mt.c.id == fi.c.meeting_id)
                .where(fi.c.body_id == body_id)
            )
        ).all()
    )
    organs = await item_organs(conn, [int(r.id) for r in rows])
    cards = []
    for r in rows:
        mine = organs[int(r.id)]
        cards.append(
            Card(
                id=int(r.id),
                title=str(r.title),
                meeting=str(r.meeting_title or ""),
                meeting_id=r.meeting_id,
                asker=str(r.asker),
                lead=next((name for _, name, lead in mine if lead), ""),
                organs=tuple(name for _, name, lead in mine if not lead),
                priority=bool(r.priority),
                status=str(r.status),
                reply_class=r.reply_class,
                reply_due=r.reply_due,
                overdue=rules.overdue(r.status, r.reply_due, today),
                soon=rules.due_within(r.status, r.reply_due, today, rules.SOON_DAYS),
            )
        )
    total, closed = len(cards), sum(c.status == rules.CLOSED for c in cards)
    overdue = sum(c.overdue for c in cards)
    week = sum(rules.due_within(c.status, c.reply_due, today, rules.REMIND_DAYS) for c in cards)
    organ_ids = {i: {oid for oid, _, _ in organs[i]} for i in organs}
    kept = [
        c
        for c in cards
        if (filters.meeting_id is None or c.meeting_id == filters.meeting_id)
        and (filters.organ_id is None or filters.organ_id in organ_ids[c.id])
        and (
            filters.status is None
            or (c.overdue if filters.status == "overdue" else c.status == filters.status)
        )
        and (not filters.priority or c.priority)
    ]
    kept.sort(key=lambda c: (*rules.board_rank(c.status, c.reply_due, today), c.id))
    meetings = [
        (int(a), str(b))
        for a, b in (
            await conn.execute(
                select(mt.c.id, mt.c.title).where(mt.c.body_id == body_id).order_by(mt.c.id.desc())
            )
        ).all()
    ]
    o = m.organs
    body_organs = [
        (int(a), str(b))
        for a, b in await conn.execute(
            select(o.c.id, o.c.name).where(o.c.body_id == body_id).order_by(o.c.name)
        )
    ]
    return Board(kept, total, closed, total - closed, overdue, week, meetings, body_organs)


@dataclass(frozen=True)
class ItemView:
    item: Any
    body_name: str
    meeting_title: str
    decision: Any
    organs: list[tuple[int, str, bool]]
    body_organs: list[tuple[int, str]]
    commitments: list[Any]
    posts: list[Any]
    moves: list[rules.Move]


async def item_view(conn: AsyncConnection, item_id: int) -> ItemView | None:
    fi = m.followup_items
    item = (await conn.execute(select(fi).where(fi.c.id == item_id))).first()
    if item is None:
        return None
    body_name = (await conn.execute(select(m.bodies.c.name).where(m.bodies.c.id == item.body_id))).scalar()
    title = ""
    if item.meeting_id is not None:
        mt = m.meetings
        title = str((await conn.execute(select(mt.c.title).where(mt.c.id == item.meeting_id))).scalar() or "")
    decision = None
    if item.decision_id is not None:
        fd = m.followup_decisions
        decision = (await conn.execute(select(fd).where(fd.c.id == item.decision_id))).first()
    organs = (await item_organs(conn, [item_id]))[item_id]
    o, c, p = m.organs, m.followup_commitments, m.followup_posts
    body_organs = [
        (int(a), str(b))
        for a, b in await conn.execute(
            select(o.c.id, o.c.name).where(o.c.body_id == item.body_id).order_by(o.c.name)
        )
    ]
    commitments = list((await conn.execute(select(c).where(c.c.item_id == item_id).order_by(c.c.id))).all())
    posts = list((await conn.execute(select(p).where(p.c.item_id == item_id).order_by(p.c.id))).all())
    return ItemView(
        item,
        str(body_name),
        title,
        decision,
        organs,
        body_organs,
        commitments,
        posts,
        list(rules.TRANSITIONS[item.status]),
    )


async def question_snapshot(
    conn: AsyncConnection, question: Any, hall: followup_hall.Hall | None = None
) -> dict[str, str]:
    """The asker, groups (the asker's and the co-proposers'), respondents and the rating
    (counts, satisfaction rate, grade, or 未测评) of a question, as text: the item reads the
    same after the roster changes. ``hall``: the meeting's, when the caller has read it."""
    d, g = m.deputies, m.groups
    asker = ""
    groups: list[str] = []
    if question.asker_id is not None:
        asker = str((await conn.execute(select(d.c.name).where(d.c.id == question.asker_id))).scalar() or "")
    if question.group_id is not None:
        groups.append(str((await conn.execute(select(g.c.name).where(g.c.id == question.group_id))).scalar()))
    sub = m.question_submissions
    co = (await conn.execute(select(sub.c.co_proposers).where(sub.c.question_id == question.id))).scalar()
    co_ids = [int(x) for x in (co or "").split(",") if x.strip().isdigit()]
    if co_ids:
        stmt = (
            select(g.c.name).join(d, d.c.group_id == g.c.id).where(d.c.id.in_(co_ids)).order_by(g.c.position)
        )
        groups += [str(n) for n in (await conn.execute(stmt)).scalars()]
    o, qr = m.officials, m.question_respondents
    officials = await conn.execute(
        select(o.c.name, o.c.title)
        .join(qr, qr.c.official_id == o.c.id)
        .where(qr.c.question_id == question.id)
        .order_by(qr.c.position)
    )
    hall = hall or await followup_hall.hall_of(conn, int(question.meeting_id))
    rating = hall.rating_text(int(question.id))
    return {
        "asker": asker[:64],
        "groups": "、".join(dict.fromkeys(x for x in groups if x)),
        "respondent": "、".join(f"{r.title}{r.name}" for r in officials)[:128],
        "rating_text": rating[:200],
    }
