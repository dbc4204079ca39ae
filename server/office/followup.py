"""Follow-up (督办) writes: the 交办 decision, items by hand, organs, commitments, status.

A meeting's questions become follow-up items only through a recorded 交办 decision of the
deciding organ (主任会议, 主席团 …): its date, document number and reply period (1 to 6
months), which questions become items (some 重点督办), and a reason for every question
that does not. One decision per meeting; a rehearsal has none. An item can also be created
by hand (a 专题询问's opinions, a question answered in writing).

Every function runs inside the caller's transaction, checks everything before it writes,
raises :class:`Invalid` with a Chinese message (nothing written), and leaves an entry in the
audit trail. Status changes follow server/office/followup_rules.py and leave a post in the
item's history naming who and when. Reads are in server/office/followup_reads.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import followup_hall, followup_judgments, followup_reads, question_commitments
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage import models as m

TEXT = {
    "no_meeting": "找不到这次会议。",
    "rehearsal": "彩排不交办督办事项。",
    "decided": "这次会议已经记录了交办决定。",
    "organ": "请填写作出交办决定的机构（如主任会议、主席团），不超过 64 个字。",
    "document": "请填写交办文号，不超过 64 个字。",
    "unknown_question": "所选问题不是这次会议的问题。",
    "priority_not_item": "重点督办的问题须同时选为督办事项。",
    "reason": "未列为督办事项的问题须写明理由（不超过 200 个字）：{title}",
    "no_item": "找不到这个督办事项。",
    "no_body": "找不到这个机构。",
    "title": "请填写督办事项的标题，不超过 200 个字。",
    "short": "{what}不超过 {n} 个字。",
    "lead": "请选择一个牵头承办单位。",
    "unknown_organ": "所选承办单位不在本机构的承办单位名单中。",
    "commitment": "请填写承诺事项，不超过 300 个字。",
    "post": "说明不超过 2000 个字。",
}
MAX_POST = 2000


def _text(value: str, limit: int, message: str, field: str, *, required: bool = True) -> str:
    value = value.strip()
    if (required and not value) or len(value) > limit:
        raise Invalid({field: message})
    return value


def _months(months: int) -> int:
    try:
        return rules.check_months(months)
    except rules.RuleBroken as bad:
        raise Invalid({"months": str(bad)}) from None


async def record_decision(
    conn: AsyncConnection,
    meeting_id: int,
    *,
    organ: str,
    decided_on: dt.date,
    document_no: str,
    reply_months: int,
    chosen: Collection[int],
    priority: Collection[int],
    reasons: Mapping[int, str],
    actor: str,
    device: str,
    now_ms: int,
    answers: Mapping[int, tuple[str, str]] | None = None,
) -> int:
    """Record the meeting's 交办 decision; its chosen questions become items due
    ``reply_months`` after ``decided_on``, each with the commitments typed for its question
    and, from ``answers`` ((author, text) by question), its written answer as its first
    post (server/office/followup_hall.py). Returns the decision's id."""
    meeting = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()
    if meeting is None:
        raise Invalid({"meeting": TEXT["no_meeting"]})
    if meeting.rehearsal:
        raise Invalid({"meeting": TEXT["rehearsal"]})
    fd = m.followup_decisions
    if (await conn.execute(select(fd.c.id).where(fd.c.meeting_id == meeting_id))).first() is not None:
        raise Invalid({"meeting": TEXT["decided"]})
    organ = _text(organ, 64, TEXT["organ"], "organ")
    document_no = _text(document_no, 64, TEXT["document"], "document")
    due = rules.add_months(decided_on, _months(reply_months))
    q = m.questions
    questions = list(
        (await conn.execute(select(q).where(q.c.meeting_id == meeting_id).order_by(q.c.position))).all()
    )
    ids = {int(x.id) for x in questions}
    if not set(chosen) <= ids or not set(priority) <= ids:
        raise Invalid({"questions": TEXT["unknown_question"]})
    if not set(priority) <= set(chosen):
        raise Invalid({"questions": TEXT["priority_not_item"]})
    closed: dict[int, str] = {}
    for x in questions:
        if x.id not in chosen:
            reason = reasons.get(int(x.id), "").strip()
            if not reason or len(reason) > 200:
                raise Invalid({"questions": TEXT["reason"].format(title=x.title)})
            closed[int(x.id)] = reason
    written = followup_hall.check_answers(questions, chosen, answers or {})
    hall = await followup_hall.hall_of(conn, meeting_id)
    decision_id = int(
        (
            await conn.execute(
                insert(fd)
                .values(
                    meeting_id=meeting_id,
                    organ=organ,
                    decided_on=decided_on,
                    document_no=document_no,
                    reply_months=reply_months,
                    recorded_by=audit.who(actor),
                    recorded_at_ms=now_ms,
                )
                .returning(fd.c.id)
            )
        ).scalar_one()
    )
    for x in questions:
        if x.id in closed:
            await conn.execute(
                insert(m.followup_closed_questions).values(
                    decision_id=decision_id, question_id=x.id, reason=closed[int(x.id)]
                )
            )
            continue
        fi = m.followup_items
        item_id = (
            await conn.execute(
                insert(fi)
                .values(
                    body_id=meeting.body_id,
                    meeting_id=meeting_id,
                    decision_id=decision_id,
                    question_id=x.id,
                    title=x.title,
                    priority=x.id in priority,
                    assigned_on=decided_on,
                    reply_due=due,
                    status=rules.HANDLING,
                    reply_class=None,
                    created_at_ms=now_ms,
                    **await followup_reads.question_snapshot(conn, x, hall),
                )
                .returning(fi.c.id)
            )
        ).scalar_one()
        await question_commitments.copy_to_item(conn, meeting_id, int(x.id), int(item_id))
        if x.id in written:
            author, text = written[int(x.id)]
            await followup_hall.post_answer(
                conn, int(meeting.body_id), int(item_id), author, text, decided_on
            )
    await audit.record(
        conn,
        "followup_decided",
        actor=actor,
        device=device,
        body_id=int(meeting.body_id),
        meeting_id=meeting_id,
        organ=organ,
        document_no=document_no,
        decided_on=decided_on.isoformat(),
        reply_months=reply_months,
        items=len(questions) - len(closed),
        closed=len(closed),
        written_answers=len(written),
        summary=f"{organ} {document_no}：{len(questions) - len(closed)} 项督办，{len(closed)} 项不列入",
    )
    return decision_id


async def create_item(
    conn: AsyncConnection,
    body_id: int,
    *,
    title: str,
    assigned_on: dt.date,
    reply_months: int = rules.DEFAULT_MONTHS,
    meeting_id: int | None = None,
    asker: str = "",
    respondent: str = "",
    priority: bool = False,
    answer: str = "",
    answer_by: str = "",
    actor: str,
    device: str,
    now_ms: int,
) -> int:
    """An item made by hand, without a decision (a 专题询问's opinions, a written answer).
    ``answer``: a written answer (书面答复) by ``answer_by``, the item's first post."""
    if (await conn.execute(select(m.bodies.c.id).where(m.bodies.c.id == body_id))).first() is None:
        raise Invalid({"body": TEXT["no_body"]})
    title = _text(title, 200, TEXT["title"], "title")
    asker = _text(asker, 64, TEXT["short"].format(what="提问代表", n=64), "asker", required=False)
    respondent = _text(
        respondent, 128, TEXT["short"].format(what="应询人", n=128), "respondent", required=False
    )
    due = rules.add_months(assigned_on, _months(reply_months))
    followup_hall.check_answer(answer_by, answer, title)
    if meeting_id is not None:
        mt = m.meetings
        found = await conn.execute(select(mt.c.id).where(mt.c.id == meeting_id, mt.c.body_id == body_id))
        if found.first() is None:
            raise Invalid({"meeting": TEXT["no_meeting"]})
    fi = m.followup_items
    item_id = int(
        (
            await conn.execute(
                insert(fi)
                .values(
                    body_id=body_id,
                    meeting_id=meeting_id,
                    decision_id=None,
                    question_id=None,
                    title=title,
                    asker=asker,
                    respondent=respondent,
                    priority=priority,
                    assigned_on=assigned_on,
                    reply_due=due,
                    status=rules.HANDLING,
                    created_at_ms=now_ms,
                )
                .returning(fi.c.id)
            )
        ).scalar_one()
    )
    if answer.strip():
        await followup_hall.post_answer(conn, body_id, item_id, answer_by, answer, assigned_on)
    await audit.record(
        conn,
        "followup_created",
        actor=actor,
        device=device,
        body_id=body_id,
        meeting_id=meeting_id,
        item=item_id,
        written_answer=bool(answer.strip()),
        summary=f"督办事项 {item_id}：{title}" + ("（附书面答复）" if answer.strip() else ""),
    )
    return item_id


async def _item(conn: AsyncConnection, item_id: int) -> Any:
    row = (await conn.execute(select(m.followup_items).where(m.followup_items.c.id == item_id))).first()
    if row is None:
        raise Invalid({"item": TEXT["no_item"]})
    return row


async def set_organs(
    conn: AsyncConnection,
    item_id: int,
    lead: int | None,
    assisting: Collection[int],
    *,
    actor: str,
    device: str,
) -> None:
    """The item's responsible organs, replaced whole: one lead, any number assisting."""
    item = await _item(conn, item_id)
    if lead is None:
        raise Invalid({"organs": TEXT["lead"]})
    wanted = {lead, *assisting}
    o = m.organs
    known = dict(
        (
            await conn.execute(
                select(o.c.id, o.c.name).where(o.c.body_id == item.body_id, o.c.id.in_(wanted))
            )
        ).all()
    )
    if set(known) != wanted:
        raise Invalid({"organs": TEXT["unknown_organ"]})
    fio = m.followup_item_organs
    await conn.execute(delete(fio).where(fio.c.item_id == item_id))
    for organ_id in [lead, *sorted(wanted - {lead})]:
        await conn.execute(insert(fio).values(item_id=item_id, organ_id=organ_id, lead=organ_id == lead))
    await audit.record(
        conn,
        "followup_organs_set",
        actor=actor,
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        lead=known[lead],
        assisting=[known[i] for i in sorted(wanted - {lead})],
        summary=f"督办事项 {item_id}：牵头 {known[lead]}"
        + "".join(f"，协办 {known[i]}" for i in sorted(wanted - {lead})),
    )


async def add_commitment(
    conn: AsyncConnection, item_id: int, text: str, *, actor: str, device: str, now_ms: int
) -> None:
    """One line of what the official committed to (承诺事项)."""
    item = await _item(conn, item_id)
    text = _text(text, 300, TEXT["commitment"], "commitment")
    await conn.execute(
        insert(m.followup_commitments).values(
            item_id=item_id, text=text, recorded_by=audit.who(actor), at_ms=now_ms
        )
    )
    await audit.record(
        conn,
        "followup_committed",
        actor=actor,
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        summary=f"督办事项 {item_id}：{text}",
    )


async def change_status(
    conn: AsyncConnection,
    item_id: int,
    to: str,
    *,
    text: str,
    reply_class: str | None = None,
    who: str = rules.STAFF,
    author: str,
    on_behalf: bool = False,
    organ_id: int | None = None,
    actor: str,
    device: str,
    now_ms: int,
) -> int:
    """Move the item to ``to`` if the rules allow it, with a post in its history saying
    who, when, from what to what and why. A reply (已答复) carries its class A/B/C and the
    organ it is from (``organ_id``). Returns the post's id (attachments hang on it)."""
    item = await _item(conn, item_id)
    if len(text.strip()) > MAX_POST:
        raise Invalid({"text": TEXT["post"]})
    # A deputy's 不同意办结 on the current reply: closing then needs a written reason.
    objected = to == rules.CLOSED and await followup_judgments.objected(conn, item_id)
    try:
        rules.check_move(item.status, to, who, reply_class, item.reply_class, text, objected=objected)
    except rules.RuleBroken as bad:
        raise Invalid({"status": str(bad)}) from None
    fi = m.followup_items
    changes: dict[str, Any] = {"status": to}
    if to == rules.REPLIED:
        changes["reply_class"] = reply_class
    # Guarded by the status read above: two staff changing the same item at once cannot
    # both move it from the same status.
    moved = await conn.execute(
        update(fi).where(fi.c.id == item_id, fi.c.status == item.status).values(**changes)
    )
    if moved.rowcount != 1:
        raise Invalid(
            {"status": rules.TEXT["illegal"].format(from_=rules.STATUSES[item.status], to=rules.STATUSES[to])}
        )
    post = await conn.execute(
        insert(m.followup_posts)
        .values(
            item_id=item_id,
            kind=rules.REPLY if to == rules.REPLIED else rules.STATUS,
            text=text.strip(),
            author=author[:64],
            on_behalf=on_behalf,
            status_from=item.status,
            status_to=to,
            reply_class=reply_class if to == rules.REPLIED else None,
            at_ms=now_ms,
            organ_id=organ_id,
        )
        .returning(m.followup_posts.c.id)
    )
    post_id = int(post.scalar_one())
    await audit.record(
        conn,
        "followup_status",
        actor=actor,
        device=device,
        body_id=int(item.body_id),
        item=item_id,
        status_from=item.status,
        status_to=to,
        reply_class=reply_class,
        summary=f"督办事项 {item_id}：{rules.STATUSES[item.status]} → {rules.STATUSES[to]}"
        + (f"（{reply_class} 类）" if to == rules.REPLIED else ""),
    )
    return post_id
