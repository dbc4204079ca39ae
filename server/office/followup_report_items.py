"""The items of a progress report as they stood at a moment (server/office/followup_report.py).

Read for a report made now, or again for one made earlier: items created after the moment
are left out, and so are posts, commitments and judgments recorded after it. A report made
now takes each item's status and reply class from the item itself; one rebuilt takes them
from its history — the ``status_to`` of its last post up to the moment, the class of its
last ``reply`` post — since every status change leaves such a post (server/office/followup.py).
A deputy's judgment keeps only its latest verdict, so one changed later is not seen then.

"Up to the moment" is by when a post was posted (``at_ms``), whatever day it tells of;
the status is read in the order posts were posted. The history the report prints runs by
the day each post tells of — a progress post's day of the work, any other's day of
posting (:func:`server.office.followup_posts.work_day`) — one day in posting order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import day_of_ms
from server.office import followup_reads
from server.office import followup_rules as rules
from server.office.followup_judgments import JudgmentSummary
from server.office.followup_posts import work_day
from server.storage import models as m


@dataclass(frozen=True)
class PostLine:
    """One entry of an item's history, as the report prints it."""

    day: dt.date  # the day it tells of: the work's (progress), else the day it was posted
    kind: str  # progress | reply | status | answer
    author: str
    organ: str  # the organ it is from or for ("" when none)
    on_behalf: bool
    text: str
    status_to: str | None
    reply_class: str | None
    posted: dt.date | None = None  # the day it was posted, for a progress post (else None)


@dataclass(frozen=True)
class ReportItem:
    id: int
    title: str
    question: str  # the question's text as asked ("" for an item made by hand)
    meeting: str
    asker: str
    groups: str
    respondent: str
    rating: str  # the hall's satisfaction rating of the answer, as the item keeps it
    lead: str
    assisting: tuple[str, ...]
    priority: bool
    assigned_on: dt.date
    reply_due: dt.date
    status: str
    reply_class: str | None
    overdue: bool
    commitments: tuple[str, ...]
    posts: tuple[PostLine, ...]
    view: JudgmentSummary

    @property
    def status_name(self) -> str:
        return rules.STATUSES[self.status]


async def gather(
    conn: AsyncConnection, body_id: int, meeting_ids: Collection[int], as_of_ms: int, *, now: bool = True
) -> list[ReportItem]:
    """The items in scope (every item of the body when ``meeting_ids`` is empty) as they
    stood at ``as_of_ms``, in the order they were made (a decision's follow the order of
    its questions). ``now``: the status and class are the item's own (a report made now);
    otherwise those of its last status post and last reply up to ``as_of_ms``."""
    fi, mt, q = m.followup_items, m.meetings, m.questions
    stmt = (
        select(fi, mt.c.title.label("meeting_title"), q.c.text.label("question_text"))
        .outerjoin(mt, mt.c.id == fi.c.meeting_id)
        .outerjoin(q, q.c.id == fi.c.question_id)
        .where(fi.c.body_id == body_id, fi.c.created_at_ms <= as_of_ms)
        .order_by(fi.c.id)
    )
    if meeting_ids:
        stmt = stmt.where(fi.c.meeting_id.in_(list(meeting_ids)))
    rows = list((await conn.execute(stmt)).all())
    ids = [int(r.id) for r in rows]
    organs, commitments, posts, judgments = await followup_reads.item_organ_names(conn, ids), {}, {}, {}
    if ids:
        commitments = await _commitments(conn, ids, as_of_ms)
        posts = await _posts(conn, ids, as_of_ms)
        judgments = await _judgments(conn, ids, as_of_ms)
    day = day_of_ms(as_of_ms)
    items = []
    for r in rows:
        mine = posts.get(int(r.id), [])
        moves = [p for _, p in mine if p.status_to]
        replies = [(pid, p) for pid, p in mine if p.kind == rules.REPLY]
        if now:
            status, reply_class = str(r.status), r.reply_class
        else:
            status = str(moves[-1].status_to) if moves else rules.HANDLING
            reply_class = replies[-1][1].reply_class if replies else None
        view = judgments.get(replies[-1][0], JudgmentSummary()) if replies else JudgmentSummary()
        lead = next((name for name, is_lead in organs.get(int(r.id), []) if is_lead), "")
        items.append(
            ReportItem(
                id=int(r.id),
                title=str(r.title),
                question=str(r.question_text or ""),
                meeting=str(r.meeting_title or ""),
                asker=str(r.asker),
                groups=str(r.groups),
                respondent=str(r.respondent),
                rating=str(r.rating_text),
                lead=lead,
                assisting=tuple(name for name, is_lead in organs.get(int(r.id), []) if not is_lead),
                priority=bool(r.priority),
                assigned_on=r.assigned_on,
                reply_due=r.reply_due,
                status=status,
                reply_class=reply_class,
                overdue=rules.overdue(status, r.reply_due, day),
                commitments=tuple(commitments.get(int(r.id), [])),
                posts=tuple(sorted((p for _, p in mine), key=lambda p: p.day)),
                view=view,
            )
        )
    return items


async def _commitments(conn: AsyncConnection, ids: list[int], as_of_ms: int) -> dict[int, list[str]]:
    c = m.followup_commitments
    rows = await conn.execute(
        select(c.c.item_id, c.c.text).where(c.c.item_id.in_(ids), c.c.at_ms <= as_of_ms).order_by(c.c.id)
    )
    out: dict[int, list[str]] = {}
    for item_id, text in rows:
        out.setdefault(int(item_id), []).append(str(text))
    return out


async def _posts(
    conn: AsyncConnection, ids: list[int], as_of_ms: int
) -> dict[int, list[tuple[int, PostLine]]]:
    p, o = m.followup_posts, m.organs
    rows = await conn.execute(
        select(p, o.c.name.label("organ_name"))
        .outerjoin(o, o.c.id == p.c.organ_id)
        .where(p.c.item_id.in_(ids), p.c.at_ms <= as_of_ms)
        .order_by(p.c.id)
    )
    out: dict[int, list[tuple[int, PostLine]]] = {}
    for r in rows:
        line = PostLine(
            day=work_day(r.work_on, int(r.at_ms)),
            kind=str(r.kind),
            author=str(r.author),
            organ=str(r.organ_name or ""),
            on_behalf=bool(r.on_behalf),
            text=str(r.text),
            status_to=r.status_to,
            reply_class=r.reply_class,
            posted=day_of_ms(int(r.at_ms)) if r.work_on is not None else None,
        )
        out.setdefault(int(r.item_id), []).append((int(r.id), line))
    return out


async def _judgments(conn: AsyncConnection, ids: list[int], as_of_ms: int) -> dict[int, JudgmentSummary]:
    """Per reply post: the verdicts and objections recorded up to ``as_of_ms``. Not
    followup_judgments.summary, which counts what stands now: a report is rebuilt as of
    the moment it was made."""
    j = m.followup_judgments
    rows = await conn.execute(
        select(j.c.reply_post_id, j.c.verdict, j.c.objects).where(j.c.item_id.in_(ids), j.c.at_ms <= as_of_ms)
    )
    tally: dict[int, list[int]] = {}
    for post_id, verdict, objects in rows:
        t = tally.setdefault(int(post_id), [0, 0, 0, 0])
        if verdict in ("satisfied", "basic", "dissatisfied"):
            t[("satisfied", "basic", "dissatisfied").index(verdict)] += 1
        t[3] += bool(objects)
    return {post_id: JudgmentSummary(*t) for post_id, t in tally.items()}
