"""Follow-up (督办) on a deputy's phone: the items of the deputy's own questions, and the
deputy's judgment of their replies.

A deputy's items are those whose question the deputy asked (``questions.asker_id``),
proposed or co-proposed (the question's submission: ``deputy_id``, ``co_proposers``; a
merge keeps every proposer there), in any meeting of the deputy's body. Only these
deputies see an item here or judge it; anyone else gets :class:`NotYours`.

Judging follows server/office/followup_rules.py: a verdict (满意 / 基本满意 / 不满意) of the
current reply while the item is 已答复, one per deputy per reply, changeable while that
reply is current; a 不满意 moves the item to 重新办理 in the same transaction, with a
"status" post authored by the deputy (through :func:`server.office.followup.change_status`
as ``DEPUTY``), so the organ must reply again. Separately, 不同意办结 with a reason (and
its withdrawal). Every write checks everything first, raises :class:`Invalid` with a
Chinese message (nothing written) and leaves its audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base import parse
from server.office import followup, followup_judgments, followup_reads
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage import models as m

TEXT = {
    "no_item": "找不到这个督办事项。",
    "not_yours": "这个督办事项不是您提出或联名提出的问题，您不能查看或评价。",
    "default_redo": "{name}代表对答复不满意，要求重新办理。",
    "reason_long": "意见不超过 {n} 个字。",
    "not_objecting": "您没有对这次答复提出不同意办结。",
}


class NotYours(Exception):
    """The deputy neither asked nor co-proposed the item's question."""


@dataclass(frozen=True)
class Post:
    id: int
    kind: str
    text: str
    author: str
    on_behalf: bool
    status_from: str | None
    status_to: str | None
    reply_class: str | None
    at_ms: int  # when it was posted
    attachments: tuple[str, ...]  # file names only: the phone lists them, it does not open them
    work_on: dt.date | None = None  # the day of the work (progress)


@dataclass(frozen=True)
class DeputyItem:
    """One item as the deputy's phone shows it."""

    id: int
    title: str
    meeting: str
    status: str
    reply_class: str | None
    reply_due: dt.date
    overdue: bool
    lead: str
    assisting: tuple[str, ...]
    commitments: tuple[str, ...]
    posts: tuple[Post, ...]
    reply_id: int | None  # the current reply, when the deputy may judge it (已答复)
    my_verdict: str | None
    my_objection: str | None  # the reason, when the deputy objects to closing

    @property
    def status_name(self) -> str:
        return rules.STATUSES[self.status]

    @property
    def judging(self) -> bool:
        return self.reply_id is not None

    @property
    def current_reply(self) -> Post | None:
        return next((p for p in self.posts if p.id == self.reply_id), None)


async def _owners(conn: AsyncConnection, question_ids: list[int]) -> dict[int, set[int]]:
    """question id → the deputies who asked, proposed or co-proposed it."""
    out: dict[int, set[int]] = {q: set() for q in question_ids}
    if not question_ids:
        return out
    q, sub = m.questions, m.question_submissions
    for qid, asker in await conn.execute(select(q.c.id, q.c.asker_id).where(q.c.id.in_(question_ids))):
        if asker is not None:
            out[int(qid)].add(int(asker))
    rows = await conn.execute(
        select(sub.c.question_id, sub.c.deputy_id, sub.c.co_proposers).where(
            sub.c.question_id.in_(question_ids)
        )
    )
    for qid, proposer, co in rows:
        out[int(qid)] |= {int(proposer), *(parse.row_ids(co or "") or [])}
    return out


async def item_ids(conn: AsyncConnection, body_id: int, deputy_id: int) -> list[int]:
    """The body's items of the deputy's questions, newest first."""
    fi = m.followup_items
    rows = list(
        (
            await conn.execute(
                select(fi.c.id, fi.c.question_id)
                .where(fi.c.body_id == body_id, fi.c.question_id.is_not(None))
                .order_by(fi.c.id.desc())
            )
        ).all()
    )
    owners = await _owners(conn, [int(r.question_id) for r in rows])
    return [int(r.id) for r in rows if deputy_id in owners[int(r.question_id)]]


async def _item_of(conn: AsyncConnection, item_id: int, deputy_id: int) -> Any:
    """The item row if the deputy may see it; :class:`Invalid` (no item) or :class:`NotYours`."""
    fi = m.followup_items
    item = (await conn.execute(select(fi).where(fi.c.id == item_id))).first()
    if item is None:
        raise Invalid({"item": TEXT["no_item"]})
    d = m.deputies
    body = (await conn.execute(select(d.c.body_id).where(d.c.id == deputy_id))).scalar()
    if item.question_id is None or body != item.body_id:
        raise NotYours
    if deputy_id not in (await _owners(conn, [int(item.question_id)]))[int(item.question_id)]:
        raise NotYours
    return item


async def _posts(conn: AsyncConnection, item_id: int) -> tuple[Post, ...]:
    p, a = m.followup_posts, m.followup_attachments
    rows = list((await conn.execute(select(p).where(p.c.item_id == item_id).order_by(p.c.id))).all())
    names: dict[int, list[str]] = {int(r.id): [] for r in rows}
    if names:
        for post_id, filename in await conn.execute(
            select(a.c.post_id, a.c.filename).where(a.c.post_id.in_(list(names))).order_by(a.c.id)
        ):
            names[int(post_id)].append(str(filename))
    return tuple(
        Post(
            int(r.id),
            str(r.kind),
            str(r.text),
            str(r.author),
            bool(r.on_behalf),
            r.status_from,
            r.status_to,
            r.reply_class,
            int(r.at_ms),
            tuple(names[int(r.id)]),
            r.work_on if r.kind == rules.PROGRESS else None,
        )
        for r in rows
    )


async def view(conn: AsyncConnection, item: Any, deputy_id: int, today: dt.date) -> DeputyItem:
    item_id = int(item.id)
    meeting = ""
    if item.meeting_id is not None:
        mt = m.meetings
        meeting = str(
            (await conn.execute(select(mt.c.title).where(mt.c.id == item.meeting_id))).scalar() or ""
        )
    c = m.followup_commitments
    organs = (await followup_reads.item_organ_names(conn, [item_id]))[item_id]
    commitments = tuple(
        str(t) for t in await conn.scalars(select(c.c.text).where(c.c.item_id == item_id).order_by(c.c.id))
    )
    reply_id = (await followup_judgments.current_replies(conn, [item_id])).get(item_id)
    mine = None
    if reply_id is not None:
        j = m.followup_judgments
        mine = (
            await conn.execute(select(j).where(j.c.reply_post_id == reply_id, j.c.deputy_id == deputy_id))
        ).first()
    judging = item.status == rules.REPLIED and reply_id is not None
    return DeputyItem(
        id=item_id,
        title=str(item.title),
        meeting=meeting,
        status=str(item.status),
        reply_class=item.reply_class,
        reply_due=item.reply_due,
        overdue=rules.overdue(item.status, item.reply_due, today),
        lead=next((str(n) for n, lead in organs if lead), ""),
        assisting=tuple(str(n) for n, lead in organs if not lead),
        commitments=commitments,
        posts=await _posts(conn, item_id),
        reply_id=reply_id if judging else None,
        my_verdict=mine.verdict if mine is not None else None,
        my_objection=str(mine.reason) if mine is not None and mine.objects else None,
    )


async def items(conn: AsyncConnection, body_id: int, deputy_id: int, today: dt.date) -> list[DeputyItem]:
    """The deputy's items of the body, newest first."""
    fi = m.followup_items
    ids = await item_ids(conn, body_id, deputy_id)
    rows = {int(r.id): r for r in await conn.execute(select(fi).where(fi.c.id.in_(ids)))} if ids else {}
    return [await view(conn, rows[i], deputy_id, today) for i in ids]


async def item(conn: AsyncConnection, item_id: int, deputy_id: int, today: dt.date) -> DeputyItem:
    """One of the deputy's items; :class:`Invalid` (none) or :class:`NotYours`."""
    return await view(conn, await _item_of(conn, item_id, deputy_id), deputy_id, today)


# -- judging -------------------------------------------------------------------------------


async def _judging(conn: AsyncConnection, item_id: int, deputy_id: int) -> tuple[Any, int, Any, str]:
    """(item, its current reply's id, the deputy's judgment of it or None, the deputy's name)
    for an item the deputy may judge now."""
    item = await _item_of(conn, item_id, deputy_id)
    reply_id = (await followup_judgments.current_replies(conn, [item_id])).get(item_id)
    if item.status != rules.REPLIED or reply_id is None:
        raise Invalid({"judgment": rules.TEXT["no_reply"]})
    j, d = m.followup_judgments, m.deputies
    mine = (
        await conn.execute(select(j).where(j.c.reply_post_id == reply_id, j.c.deputy_id == deputy_id))
    ).first()
    name = str((await conn.execute(select(d.c.name).where(d.c.id == deputy_id))).scalar_one())
    return item, reply_id, mine, name


async def _sent_back_by(conn: AsyncConnection, item_id: int, deputy_id: int) -> bool:
    """The item is 重新办理 because of this deputy's 不满意 of its latest reply."""
    item = await _item_of(conn, item_id, deputy_id)
    if item.status != rules.REDO:
        return False
    reply_id = (await followup_judgments.current_replies(conn, [item_id])).get(item_id)
    j = m.followup_judgments
    verdict = (
        await conn.execute(
            select(j.c.verdict).where(j.c.reply_post_id == reply_id, j.c.deputy_id == deputy_id)
        )
    ).scalar()
    return verdict == rules.DISSATISFIED


async def judge(
    conn: AsyncConnection,
    item_id: int,
    deputy_id: int,
    verdict: str,
    text: str = "",
    *,
    device: str,
    now_ms: int,
) -> str | None:
    """Record (or change) the deputy's verdict of the current reply. A 不满意 moves the item
    to 重新办理 with a post by the deputy (``text``, or a default line). Returns the status
    the item moved to, or None. Sending the same verdict again changes nothing."""
    if verdict not in rules.VERDICTS:
        raise Invalid({"judgment": rules.TEXT["verdict"]})
    text = text.strip()
    if len(text) > rules.MAX_OBJECTION:
        raise Invalid({"judgment": TEXT["reason_long"].format(n=rules.MAX_OBJECTION)})
    if verdict == rules.DISSATISFIED and await _sent_back_by(conn, item_id, deputy_id):
        return rules.REDO  # a retry after a lost answer: the item went back already
    item, reply_id, mine, name = await _judging(conn, item_id, deputy_id)
    try:
        moves_to = rules.after_judgment(item.status, verdict)
    except rules.RuleBroken as bad:
        raise Invalid({"judgment": str(bad)}) from None
    if mine is not None and mine.verdict == verdict:
        return None  # a retry after a lost answer: already recorded
    j = m.followup_judgments
    # The judgment's reason is the objection's while the deputy objects; otherwise what the
    # deputy wrote with a 不满意 (it is also the 重新办理 post's text).
    keep_reason = mine is not None and mine.objects
    values: dict[str, Any] = {"verdict": verdict, "at_ms": now_ms}
    if not keep_reason:
        values["reason"] = text if verdict == rules.DISSATISFIED else ""
    if mine is None:
        await conn.execute(
            insert(j).values(
                item_id=item_id, reply_post_id=reply_id, deputy_id=deputy_id, objects=False, **values
            )
        )
    else:
        await conn.execute(update(j).where(j.c.id == mine.id).values(**values))
    actor = f"deputy:{deputy_id}"
    await audit.record(
        conn,
        "followup_judged",
        actor=actor,
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        reply=reply_id,
        verdict=verdict,
        before=mine.verdict if mine is not None else None,
        by=name,
        summary=f"督办事项 {item_id}：{name}代表评价“{rules.VERDICTS[verdict]}”"
        + ("，退回重新办理" if moves_to else ""),
    )
    if moves_to is not None:
        await followup.change_status(
            conn,
            item_id,
            moves_to,
            text=text or TEXT["default_redo"].format(name=name),
            who=rules.DEPUTY,
            author=name,
            on_behalf=False,
            actor=actor,
            device=device,
            now_ms=now_ms,
        )
    return moves_to


async def object_to_closing(
    conn: AsyncConnection, item_id: int, deputy_id: int, reason: str, *, device: str, now_ms: int
) -> None:
    """The deputy says the item must stay open (不同意办结), with a reason (1 to 500 characters)."""
    item, reply_id, mine, name = await _judging(conn, item_id, deputy_id)
    try:
        reason = rules.check_objection(item.status, reason)
    except rules.RuleBroken as bad:
        raise Invalid({"objection": str(bad)}) from None
    if mine is not None and mine.objects and mine.reason == reason:
        return  # a retry: already recorded
    j = m.followup_judgments
    if mine is None:
        await conn.execute(
            insert(j).values(
                item_id=item_id,
                reply_post_id=reply_id,
                deputy_id=deputy_id,
                verdict=None,
                objects=True,
                reason=reason,
                at_ms=now_ms,
            )
        )
    else:
        await conn.execute(
            update(j).where(j.c.id == mine.id).values(objects=True, reason=reason, at_ms=now_ms)
        )
    await audit.record(
        conn,
        "followup_objected",
        actor=f"deputy:{deputy_id}",
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        reply=reply_id,
        reason=reason,
        by=name,
        summary=f"督办事项 {item_id}：{name}代表不同意办结：{reason}",
    )


async def withdraw_objection(
    conn: AsyncConnection, item_id: int, deputy_id: int, *, device: str, now_ms: int
) -> None:
    """The deputy takes back a 不同意办结 of the current reply."""
    item, reply_id, mine, name = await _judging(conn, item_id, deputy_id)
    if mine is None or not mine.objects:
        raise Invalid({"objection": TEXT["not_objecting"]})
    j = m.followup_judgments
    await conn.execute(update(j).where(j.c.id == mine.id).values(objects=False, reason="", at_ms=now_ms))
    await audit.record(
        conn,
        "followup_objection_withdrawn",
        actor=f"deputy:{deputy_id}",
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        reply=reply_id,
        by=name,
        summary=f"督办事项 {item_id}：{name}代表撤回不同意办结",
    )
