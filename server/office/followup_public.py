"""The body's public follow-up page (督办进展), read for anyone, no login.

Citizens watched the questions being asked; here they see what became of them. Only what
staff published is read (server/office/followup_publish.py): the items marked public and,
of their history, the status changes plus the text of approved posts. The read names its
columns one by one and carries them in the dataclasses below, so a template cannot show
more than these by mistake: the question's title, the asker's name and groups, the
answering official as announced in the hall, the responsible organs' names, the
commitments, the status and the deadlines. Never read: the organs' contacts and phones,
who wrote or approved a post, posts not approved, attachments, the deputies' judgments,
cards or phones of anyone.

Progress runs in four steps, 交办 → 办理中 → 已答复 → 已办结 (``STEPS``); 重新办理 is the
办理中 step again, named so. 逾期 comes from the deadline and the China date the caller
passes (server/office/followup_rules.py), as on the staff board.

An item's history runs in the order of the days it tells of: a progress post's day of the
work (``work_on``), any other post's day of posting — the same day keeps the order they
were posted in. A progress post typed today about last week's work stands at last week.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import followup_reads
from server.office import followup_rules as rules
from server.office.followup_posts import work_day
from server.storage import models as m

STEPS = ("交办", "办理中", "已答复", "已办结")
STEP_OF = {rules.HANDLING: 1, rules.REDO: 1, rules.REPLIED: 2, rules.CLOSED: 3}


@dataclass(frozen=True)
class PublicPost:
    """One line of an item's public history: a status change, an approved text, or both."""

    day: dt.date
    source: str  # the organ's name when the post is from (or for) an organ, else ""
    kind: str  # what it is, in Chinese (rules.POST_KINDS)
    change: str  # "已答复（A 类）", "已办结" …, "" for a post that changes no status
    text: str  # "" unless approved


@dataclass(frozen=True)
class PublicItem:
    id: int
    title: str
    asker: str
    groups: str
    respondent: str
    lead: str
    assisting: tuple[str, ...]
    commitments: tuple[str, ...]
    status: str
    status_name: str
    reply_class: str | None
    assigned_on: dt.date
    reply_due: dt.date
    overdue: bool
    late_days: int
    step: int  # index in STEPS of the step the item is at
    posts: tuple[PublicPost, ...]


@dataclass(frozen=True)
class MeetingGroup:
    meeting_id: int | None  # None: items made by hand outside any meeting
    title: str
    held_on: dt.date | None
    items: tuple[PublicItem, ...]


@dataclass(frozen=True)
class PublicBoard:
    body_id: int
    body_name: str
    today: dt.date  # the China date 逾期 was counted on
    groups: tuple[MeetingGroup, ...]

    @property
    def total(self) -> int:
        return sum(len(g.items) for g in self.groups)


def change_of(status_to: str | None, reply_class: str | None) -> str:
    """The status change a post made, in Chinese; "" when it made none."""
    if not status_to:
        return ""
    name = rules.STATUSES.get(status_to, "")
    return f"{name}（{reply_class} 类）" if status_to == rules.REPLIED and reply_class else name


def public_post(
    day: dt.date,
    kind: str,
    text: str,
    status_to: str | None,
    reply_class: str | None,
    approved: bool,
    source: str,
) -> PublicPost | None:
    """What the public sees of one post, or None when it sees nothing of it."""
    change = change_of(status_to, reply_class)
    if not approved and not change:
        return None
    return PublicPost(
        day=day,
        source=source if approved else "",
        kind=rules.POST_KINDS.get(kind, ""),
        change=change,
        text=text if approved else "",
    )


@dataclass(frozen=True)
class Counts:
    total: int
    closed: int
    open: int
    overdue: int


def counts(groups: Iterable[MeetingGroup]) -> Counts:
    """总数 / 已办结 / 办理中 (not yet closed) / 逾期 of the items in ``groups``."""
    items = [i for g in groups for i in g.items]
    closed = sum(i.status == rules.CLOSED for i in items)
    return Counts(len(items), closed, len(items) - closed, sum(i.overdue for i in items))


async def public_board(conn: AsyncConnection, body_id: int, today: dt.date) -> PublicBoard | None:
    """The body's public items grouped by meeting (newest first), or None for no such body."""
    b = m.bodies
    body_name = (await conn.execute(select(b.c.name).where(b.c.id == body_id))).scalar()
    if body_name is None:
        return None
    fi, mt = m.followup_items, m.meetings
    rows = list(
        (
            await conn.execute(
                select(
                    fi.c.id,
                    fi.c.meeting_id,
                    fi.c.title,
                    fi.c.asker,
                    fi.c.groups,
                    fi.c.respondent,
                    fi.c.status,
                    fi.c.reply_class,
                    fi.c.assigned_on,
                    fi.c.reply_due,
                    mt.c.title.label("meeting_title"),
                    mt.c.held_on,
                )
                .outerjoin(mt, mt.c.id == fi.c.meeting_id)
                .where(fi.c.body_id == body_id, fi.c.public.is_(True))
                .order_by(fi.c.id)
            )
        ).all()
    )
    ids = [int(r.id) for r in rows]
    organs = await followup_reads.item_organ_names(conn, ids)
    commitments = await _commitments(conn, ids)
    posts = await _posts(conn, ids)
    by_meeting: dict[int | None, list[PublicItem]] = defaultdict(list)
    meetings: dict[int | None, tuple[str, dt.date | None]] = {None: ("其他督办事项", None)}
    for r in rows:
        late = rules.overdue(r.status, r.reply_due, today)
        mine = organs.get(int(r.id), [])
        by_meeting[r.meeting_id].append(
            PublicItem(
                id=int(r.id),
                title=str(r.title),
                asker=str(r.asker),
                groups=str(r.groups),
                respondent=str(r.respondent),
                lead=next((name for name, lead in mine if lead), ""),
                assisting=tuple(name for name, lead in mine if not lead),
                commitments=tuple(commitments.get(int(r.id), [])),
                status=str(r.status),
                status_name=rules.STATUSES[r.status],
                reply_class=r.reply_class,
                assigned_on=r.assigned_on,
                reply_due=r.reply_due,
                overdue=late,
                late_days=(today - r.reply_due).days if late else 0,
                step=STEP_OF[r.status],
                posts=tuple(posts.get(int(r.id), [])),
            )
        )
        if r.meeting_id is not None:
            meetings[r.meeting_id] = (str(r.meeting_title), r.held_on)

    # Newest meeting first (by its day, then its id); items made outside any meeting last.
    order: list[int | None] = sorted(
        (k for k in by_meeting if k is not None),
        key=lambda k: (meetings[k][1] or dt.date.min, k),
        reverse=True,
    )
    if None in by_meeting:
        order.append(None)
        if len(order) == 1:  # no meeting to tell them from
            meetings[None] = ("督办事项", None)
    groups = tuple(MeetingGroup(k, meetings[k][0], meetings[k][1], tuple(by_meeting[k])) for k in order)
    return PublicBoard(body_id=body_id, body_name=str(body_name), today=today, groups=groups)


async def _commitments(conn: AsyncConnection, ids: list[int]) -> dict[int, list[str]]:
    """The commitments' text only: not who typed them."""
    if not ids:
        return {}
    c = m.followup_commitments
    out: dict[int, list[str]] = defaultdict(list)
    for item_id, text in await conn.execute(
        select(c.c.item_id, c.c.text).where(c.c.item_id.in_(ids)).order_by(c.c.id)
    ):
        out[int(item_id)].append(str(text))
    return out


async def _posts(conn: AsyncConnection, ids: list[int]) -> dict[int, list[PublicPost]]:
    """Each item's public history in date order. A post's text leaves the database only
    when the post is approved; the author and the approver are never selected."""
    if not ids:
        return {}
    p, o = m.followup_posts, m.organs
    approved = p.c.public_approved.is_(True)
    rows = await conn.execute(
        select(
            p.c.id,
            p.c.item_id,
            p.c.at_ms,
            p.c.work_on,
            p.c.kind,
            p.c.status_to,
            p.c.reply_class,
            p.c.public_approved,
            case((approved, p.c.text), else_=literal("")).label("text"),
            o.c.name.label("organ_name"),
        )
        .outerjoin(o, o.c.id == p.c.organ_id)
        .where(p.c.item_id.in_(ids), approved | p.c.status_to.is_not(None))
        .order_by(p.c.id)
    )
    out: dict[int, list[PublicPost]] = defaultdict(list)
    # Sorted here by the day each tells of; sorted() is stable, so one day keeps post order.
    dated = sorted(((work_day(r.work_on, int(r.at_ms)), r) for r in rows), key=lambda x: x[0])
    for day, r in dated:
        shown = public_post(
            day,
            str(r.kind),
            str(r.text or ""),
            r.status_to,
            r.reply_class,
            bool(r.public_approved),
            str(r.organ_name or ""),
        )
        if shown is not None:
            out[int(r.item_id)].append(shown)
    return out
