"""承诺事项 typed while a question is in the hall, before any follow-up item exists.

Staff type what the official committed to, one line each, from the console while the
question is current, or afterwards on the meeting's 交办督办 page. The lines belong to the
question (``question_commitments``: meeting and question); the 交办 decision copies those of
each question it makes an item into the item's own ``followup_commitments``
(:func:`copy_to_item`, called by server/office/followup.py). Once the decision is recorded
the lines are part of it and no longer change here: later commitments go on the item.

This is office data, not hall state: it is not an event of the meeting and takes no part
in the live loop. Every function runs inside the caller's transaction, checks everything
before it writes, raises :class:`Invalid` with a Chinese message, and leaves an entry in
the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage import models as m

MAX_TEXT = 300
TEXT = {
    "no_question": "这个问题不属于这次会议。",
    "text": f"请填写承诺事项，不超过 {MAX_TEXT} 个字。",
    "decided": "这次会议已记录交办决定，承诺事项已随督办事项保存；如需补充，请到该督办事项的页面添加。",
    "gone": "这条承诺事项已不存在（可能已被删除）。",
}


@dataclass(frozen=True)
class Commitment:
    id: int
    question_id: int
    text: str
    recorded_by: str
    at_ms: int


async def _check_open(conn: AsyncConnection, meeting_id: int, question_id: int) -> tuple[int, str]:
    """The meeting's body and the question's title, if the lines may still change."""
    q, mt = m.questions, m.meetings
    row = (
        await conn.execute(
            select(mt.c.body_id, q.c.title)
            .join(mt, mt.c.id == q.c.meeting_id)
            .where(q.c.id == question_id, q.c.meeting_id == meeting_id)
        )
    ).first()
    if row is None:
        raise Invalid({"question": TEXT["no_question"]})
    fd = m.followup_decisions
    if (await conn.execute(select(fd.c.id).where(fd.c.meeting_id == meeting_id))).first() is not None:
        raise Invalid({"commitment": TEXT["decided"]})
    return int(row.body_id), str(row.title)


async def add(
    conn: AsyncConnection,
    meeting_id: int,
    question_id: int,
    text: str,
    *,
    actor: str,
    device: str,
    now_ms: int,
) -> int:
    """One line for the question; returns its id."""
    body_id, title = await _check_open(conn, meeting_id, question_id)
    text = " ".join(text.split())  # one line: a paste with line breaks becomes one
    if not text or len(text) > MAX_TEXT:
        raise Invalid({"commitment": TEXT["text"]})
    qc = m.question_commitments
    new_id = int(
        (
            await conn.execute(
                insert(qc)
                .values(
                    meeting_id=meeting_id,
                    question_id=question_id,
                    text=text,
                    recorded_by=audit.who(actor),
                    at_ms=now_ms,
                )
                .returning(qc.c.id)
            )
        ).scalar_one()
    )
    await audit.record(
        conn,
        "question_committed",
        actor=actor,
        device=device,
        body_id=body_id,
        meeting_id=meeting_id,
        question_id=question_id,
        summary=f"{title}：{text}",
    )
    return new_id


async def remove(
    conn: AsyncConnection,
    meeting_id: int,
    question_id: int,
    commitment_id: int,
    *,
    actor: str,
    device: str,
) -> None:
    """Delete a wrong line; the audit entry keeps what it said."""
    body_id, title = await _check_open(conn, meeting_id, question_id)
    qc = m.question_commitments
    mine = (qc.c.id == commitment_id) & (qc.c.question_id == question_id) & (qc.c.meeting_id == meeting_id)
    text = (await conn.execute(select(qc.c.text).where(mine))).scalar()
    if text is None:
        raise Invalid({"commitment": TEXT["gone"]})
    await conn.execute(delete(qc).where(mine))
    await audit.record(
        conn,
        "question_commitment_removed",
        actor=actor,
        device=device,
        body_id=body_id,
        meeting_id=meeting_id,
        question_id=question_id,
        summary=f"{title}：删除“{text}”",
    )


async def of_meeting(conn: AsyncConnection, meeting_id: int) -> dict[int, list[Commitment]]:
    """Each question's lines in the order typed (questions without any are absent)."""
    qc = m.question_commitments
    out: dict[int, list[Commitment]] = {}
    rows = await conn.execute(select(qc).where(qc.c.meeting_id == meeting_id).order_by(qc.c.id))
    for r in rows:
        out.setdefault(int(r.question_id), []).append(
            Commitment(int(r.id), int(r.question_id), str(r.text), str(r.recorded_by), int(r.at_ms))
        )
    return out


async def of_question(conn: AsyncConnection, meeting_id: int, question_id: int) -> list[Commitment]:
    return (await of_meeting(conn, meeting_id)).get(question_id, [])


async def copy_to_item(conn: AsyncConnection, meeting_id: int, question_id: int, item_id: int) -> int:
    """The question's lines become the item's 承诺事项: same text, who typed it and when.
    Returns how many."""
    lines = await of_question(conn, meeting_id, question_id)
    if lines:
        await conn.execute(
            insert(m.followup_commitments),
            [
                {"item_id": item_id, "text": c.text, "recorded_by": c.recorded_by, "at_ms": c.at_ms}
                for c in lines
            ],
        )
    return len(lines)
